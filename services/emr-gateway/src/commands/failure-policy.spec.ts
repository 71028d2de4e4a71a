import { EmrError } from '../adapters/emr-adapter';
import { combineNotes, decideFailure } from './failure-policy';
import { DevelopmentPhiCipher, PhiCipherError } from './phi-cipher';

const SCHEDULE = [60000, 120000, 3600000];
const HOUR = 3600000;

describe('failure policy', () => {
  it('holds on rejected credentials without counting an attempt', () => {
    expect(decideFailure(new EmrError('auth-rejected', 'x'), 3, 0, SCHEDULE, 96 * HOUR).action).toBe('hold');
  });

  it('retries an unreachable EMR on the schedule, the last delay repeating, and alerts', () => {
    expect(decideFailure(new EmrError('unreachable', 'x'), 0, 0, SCHEDULE, 96 * HOUR)).toMatchObject({
      action: 'retry',
      delayMs: 60000,
      alert: true,
    });
    expect(decideFailure(new EmrError('transient', 'x'), 1, 0, SCHEDULE, 96 * HOUR)).toMatchObject({
      delayMs: 120000,
    });
    expect(decideFailure(new EmrError('transient', 'x'), 40, 0, SCHEDULE, 96 * HOUR)).toMatchObject({
      delayMs: HOUR,
    });
  });

  it('dead-letters once the horizon has passed', () => {
    const decision = decideFailure(new EmrError('unreachable', 'x'), 90, 96 * HOUR, SCHEDULE, 96 * HOUR);
    expect(decision.action).toBe('dead-letter');
    expect(decision.reason).toContain('horizon');
  });

  it.each(['permission', 'not-found', 'invalid', 'unsupported'] as const)(
    'dead-letters %s at once',
    (kind) => {
      expect(decideFailure(new EmrError(kind, 'x'), 0, 0, SCHEDULE, 96 * HOUR).action).toBe('dead-letter');
    },
  );

  it('dead-letters content that does not open, and retries our own failures quietly', () => {
    expect(decideFailure(new PhiCipherError('no'), 0, 0, SCHEDULE, HOUR).action).toBe('dead-letter');
    expect(decideFailure(new Error('vault down'), 0, 0, SCHEDULE, HOUR)).toMatchObject({
      action: 'retry',
      alert: false,
    });
  });

  it('combines the notes of a sitting in form order', () => {
    expect(combineNotes([{ text: 'a' }, { title: 'PHQ-9', text: 'b' }])).toBe('a\n\n----------\n\nPHQ-9\nb');
  });
});

describe('DevelopmentPhiCipher', () => {
  const cipher = new DevelopmentPhiCipher('x'.repeat(40));

  it('round-trips for the site it sealed for, and for no other', async () => {
    const sealed = await cipher.seal('1234', Buffer.from('Jane Doe, HCN 9876543210'));
    expect(sealed.ciphertext).not.toContain('Jane');
    expect((await cipher.open('1234', sealed)).toString()).toBe('Jane Doe, HCN 9876543210');
    await expect(cipher.open('1235', sealed)).rejects.toThrow(PhiCipherError);
    await expect(
      cipher.open('1234', { ...sealed, tag: Buffer.alloc(16).toString('base64') }),
    ).rejects.toThrow(PhiCipherError);
  });

  it('refuses a short key', () => {
    expect(() => new DevelopmentPhiCipher('short')).toThrow(PhiCipherError);
  });
});
