import { addServiceRequestWithQuirks, appointmentFor } from '@cloud-connect/testing';
import { patientContactOf } from './patient-contact';

describe('the patient an appointment message is about', () => {
  it('reads phone (as E.164), e-mail and French from the bundle Patient', () => {
    const bundle = appointmentFor(addServiceRequestWithQuirks(), {
      appointmentId: 'a1',
      status: 'booked',
      start: '2026-12-03T09:30:00-05:00',
    });
    const entries = bundle['entry'] as { resource: Record<string, unknown> }[];
    const patient = entries.find((e) => e.resource['resourceType'] === 'Patient')?.resource ?? {};
    patient['telecom'] = [
      ...(patient['telecom'] as unknown[]),
      { system: 'email', value: 'marie@example.ca' },
    ];
    expect(patientContactOf(bundle, 'a1')).toEqual({
      ref: patient['id'],
      locale: 'fr',
      email: 'marie@example.ca',
      phone: '+14165550142',
    });
  });

  it('is null when the message carries no Patient', () => {
    expect(patientContactOf({ resourceType: 'Bundle', entry: [] }, 'a1')).toBeNull();
  });
});
