import { OptOutTokens } from './opt-out-token';

describe('the signed stop-reminders link', () => {
  const tokens = new OptOutTokens('x'.repeat(40));

  it('names the site and the patient, and nothing else', () => {
    const token = tokens.sign('1000', 'patient-123');
    expect(tokens.verify(token)).toEqual({ siteNumber: '1000', patientRef: 'patient-123' });
  });

  it('refuses a token changed to another patient, or signed under another secret', () => {
    const [, mac] = tokens.sign('1000', 'patient-123').split('.');
    const other = Buffer.from(JSON.stringify(['1000', 'patient-999'])).toString('base64url');
    expect(tokens.verify(`${other}.${mac}`)).toBeNull();
    expect(new OptOutTokens('y'.repeat(40)).verify(tokens.sign('1000', 'patient-123'))).toBeNull();
    expect(tokens.verify('garbage')).toBeNull();
  });
});
