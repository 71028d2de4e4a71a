import { randomBytes } from 'node:crypto';
import { deriveKek, EnvelopeError, open, seal, sekVersionOf } from './envelope';

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
