import { randomBytes } from 'node:crypto';
import {
  deriveKek,
  EnvelopeError,
  issueDataKey,
  open,
  seal,
  sekVersionOf,
  sekVersionOfWrappedKey,
  unwrapDataKey,
} from './envelope';

describe('PHI envelope', () => {
  const sek = randomBytes(32);
  const kek = deriveKek(sek, '1234', 1);
  const plaintext = Buffer.from('Patient: Jane Example, HCN 1234-567-890');

  it('round-trips and records the SEK version', () => {
    const sealed = seal(kek, '1234', 'rec-1', plaintext);
    expect(sekVersionOf(sealed)).toBe(1);
    expect(open(kek, '1234', 'rec-1', sealed).equals(plaintext)).toBe(true);
    expect(sealed.includes(plaintext)).toBe(false);
  });

  it('uses a fresh data key and IV each time', () => {
    expect(seal(kek, '1234', 'rec-1', plaintext).equals(seal(kek, '1234', 'rec-1', plaintext))).toBe(false);
  });

  it('fails for another record or another site', () => {
    const sealed = seal(kek, '1234', 'rec-1', plaintext);
    expect(() => open(kek, '1234', 'rec-2', sealed)).toThrow('does not authenticate');
    const otherSite = deriveKek(sek, '9999', 1);
    expect(() => open(otherSite, '9999', 'rec-1', sealed)).toThrow(EnvelopeError);
  });

  it('tells a wrong key version from tampering', () => {
    const sealed = seal(kek, '1234', 'rec-1', plaintext);
    expect(() => open(deriveKek(sek, '1234', 2), '1234', 'rec-1', sealed)).toThrow('key version');
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 20] = (tampered[tampered.length - 20] ?? 0) ^ 1;
    expect(() => open(kek, '1234', 'rec-1', tampered)).toThrow('does not authenticate');
  });

  it('rejects what is not an envelope', () => {
    expect(() => sekVersionOf(Buffer.from('hello'))).toThrow('not a Cloud Connect PHI envelope');
  });
});

describe('issued data keys', () => {
  const sek = randomBytes(32);
  const kek1 = deriveKek(sek, '1234', 1);

  it('unwrap gives back the issued key, only for its site and SEK version', () => {
    const issued = issueDataKey(kek1, '1234');
    expect(issued.sekVersion).toBe(1);
    expect(issued.wrapped.includes(issued.key)).toBe(false);
    expect(sekVersionOfWrappedKey(issued.wrapped)).toBe(1);
    expect(unwrapDataKey(kek1, '1234', issued.wrapped).equals(issued.key)).toBe(true);
    expect(() => unwrapDataKey(deriveKek(sek, '9999', 1), '9999', issued.wrapped)).toThrow(EnvelopeError);
    expect(() => unwrapDataKey(deriveKek(sek, '1234', 2), '1234', issued.wrapped)).toThrow('key version');
    const tampered = Buffer.from(issued.wrapped);
    tampered[50] = (tampered[50] ?? 0) ^ 1;
    expect(() => unwrapDataKey(kek1, '1234', tampered)).toThrow('does not authenticate');
    expect(() => sekVersionOfWrappedKey(Buffer.alloc(10))).toThrow('not a Cloud Connect PHI envelope');
  });
});
