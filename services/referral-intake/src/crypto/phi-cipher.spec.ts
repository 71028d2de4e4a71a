import { DevelopmentKeyPhiCipher } from './phi-cipher';

describe('DevelopmentKeyPhiCipher', () => {
  const cipher = new DevelopmentKeyPhiCipher(Buffer.alloc(32, 1));

  it('round-trips, and the ciphertext does not contain the plaintext', async () => {
    const plain = Buffer.from('{"family":"Tremblay"}');
    const sealed = await cipher.encrypt('1234', 'rec-1', plain);
    expect(sealed.includes(Buffer.from('Tremblay'))).toBe(false);
    expect((await cipher.decrypt('1234', 'rec-1', sealed)).toString()).toBe(plain.toString());
  });

  it('refuses a ciphertext moved to another site or record, or tampered with', async () => {
    const sealed = await cipher.encrypt('1234', 'rec-1', Buffer.from('x'));
    await expect(cipher.decrypt('9999', 'rec-1', sealed)).rejects.toThrow(/does not authenticate/);
    await expect(cipher.decrypt('1234', 'rec-2', sealed)).rejects.toThrow(/does not authenticate/);
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    await expect(cipher.decrypt('1234', 'rec-1', tampered)).rejects.toThrow();
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new DevelopmentKeyPhiCipher(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});
