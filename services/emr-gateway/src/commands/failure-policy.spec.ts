import { EmrError } from '../adapters/emr-adapter';
import { combineNotes, decideFailure } from './failure-policy';
import { PhiClientError } from '@cloud-connect/phi-client';
import { commandRecordId, PhiCipherError, SEALED_ALG, VaultCommandCipher } from './phi-cipher';

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
    expect(decideFailure(new PhiCipherError('does-not-open', 'no'), 0, 0, SCHEDULE, HOUR).action).toBe(
      'dead-letter',
    );
    expect(decideFailure(new Error('vault down'), 0, 0, SCHEDULE, HOUR)).toMatchObject({
      action: 'retry',
      alert: false,
    });
  });

  it('combines the notes of a sitting in form order', () => {
    expect(combineNotes([{ text: 'a' }, { title: 'PHQ-9', text: 'b' }])).toBe('a\n\n----------\n\nPHQ-9\nb');
  });
});

describe('VaultCommandCipher failure classes', () => {
  const failing = (error: PhiClientError) =>
    new VaultCommandCipher({
      encrypt: () => Promise.reject(error),
      decrypt: () => Promise.reject(error),
    });
  const sealed = { alg: SEALED_ALG, envelope: Buffer.from('x').toString('base64') } as const;

  it('content that will never open is a PhiCipherError (dead-letter)', async () => {
    const refused = await failing(new PhiClientError(422, 'not-authentic', 'no', false))
      .open('1234', 'c', sealed)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PhiCipherError);
    expect(decideFailure(refused, 0, 0, SCHEDULE, HOUR).action).toBe('dead-letter');
    const unknown = await failing(new PhiClientError(422, 'x', 'no', false))
      .open('1234', 'c', { alg: 'A256GCM', envelope: '' } as unknown as typeof sealed)
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(PhiCipherError);
  });

  it('the vault service down (or refusing our token) stays a quiet retry', async () => {
    for (const error of [
      new PhiClientError(503, 'unavailable', 'down', true),
      new PhiClientError(0, 'unreachable', 'down', true),
      new PhiClientError(403, 'forbidden', 'no', false),
    ]) {
      const failed = await failing(error)
        .open('1234', 'c', sealed)
        .catch((e: unknown) => e);
      expect(failed).toBe(error);
      expect(decideFailure(failed, 0, 0, SCHEDULE, HOUR)).toMatchObject({ action: 'retry', alert: false });
    }
  });

  it('binds the envelope to the command id', () => {
    expect(commandRecordId('0b6e')).toBe('emr-command/0b6e');
  });
});
