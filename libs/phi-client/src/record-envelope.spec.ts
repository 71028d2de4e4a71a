import { randomBytes } from 'node:crypto';
import { keyIdOf, openRecord, RecordEnvelopeError, sealRecord, wrappedKeyOf } from './record-envelope';

describe('record envelope (format 2: AES-256-GCM under a data key, wrapped key inside)', () => {
  const key = randomBytes(32);
  const wrapped = Buffer.concat([Buffer.from([0x10, 0, 0, 0, 3]), randomBytes(84)]);
  const plaintext = Buffer.from('{"name":[{"family":"Tremblay"}],"hcn":"1234-567-890"}');

  it('round-trips; carries the wrapped key, its id and SEK version; fresh IV each time', () => {
    const sealed = sealRecord(key, wrapped, '1234', 'referral/1', plaintext);
    expect(sealed.includes(plaintext)).toBe(false);
    expect(openRecord(key, '1234', 'referral/1', sealed).equals(plaintext)).toBe(true);
    const found = wrappedKeyOf(sealed);
    expect(found.wrapped.equals(wrapped)).toBe(true);
    expect(found.keyId).toBe(keyIdOf(wrapped));
    expect(found.sekVersion).toBe(3);
    expect(sealRecord(key, wrapped, '1234', 'referral/1', plaintext).equals(sealed)).toBe(false);
  });

  it('does not open for another site, another record, another key, or after tampering', () => {
    const sealed = sealRecord(key, wrapped, '1234', 'referral/1', plaintext);
    expect(() => openRecord(key, '9999', 'referral/1', sealed)).toThrow('does not authenticate');
    expect(() => openRecord(key, '1234', 'referral/2', sealed)).toThrow('does not authenticate');
    expect(() => openRecord(randomBytes(32), '1234', 'referral/1', sealed)).toThrow(RecordEnvelopeError);
    for (const at of [0, 5, 60, 95, sealed.length - 30, sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[at] = (tampered[at] ?? 0) ^ 1;
      expect(() => openRecord(key, '1234', 'referral/1', tampered)).toThrow(RecordEnvelopeError);
    }
  });

  it('an empty record round-trips; what is not an envelope is named malformed', () => {
    const sealed = sealRecord(key, wrapped, '1234', 'r', Buffer.alloc(0));
    expect(openRecord(key, '1234', 'r', sealed).length).toBe(0);
    expect(() => wrappedKeyOf(Buffer.from('hello'))).toThrow('not a Cloud Connect PHI envelope');
    expect(() => keyIdOf(randomBytes(89))).toThrow(RecordEnvelopeError);
  });
});
