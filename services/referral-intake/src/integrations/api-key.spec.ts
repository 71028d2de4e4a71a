import { estimatedBits, generateApiKey, hashApiKey, keyHint, sameHash, weakKeyReason } from './api-key';

describe('inbound API keys', () => {
  it('generates distinct strong keys that pass the supplied-key check', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^ccik_[A-Za-z0-9_-]{43}$/);
    expect(weakKeyReason(a)).toBeNull();
  });

  it('hashes with the pepper: same key and pepper match, another pepper does not', () => {
    const key = generateApiKey();
    expect(sameHash(hashApiKey('pepper-1', key), hashApiKey('pepper-1', key))).toBe(true);
    expect(sameHash(hashApiKey('pepper-1', key), hashApiKey('pepper-2', key))).toBe(false);
    expect(sameHash(hashApiKey('pepper-1', key), Buffer.alloc(3))).toBe(false);
    expect(hashApiKey('pepper-1', key).toString('hex')).not.toContain(key);
  });

  it.each([
    ['short', /at least 24 characters/],
    ['a'.repeat(40), /too predictable/],
    ['abababababababababababababab', /too predictable/],
    ['with space inside the key 1234567', /printable ASCII/],
  ])('refuses the weak key %s', (key, reason) => {
    expect(weakKeyReason(key)).toMatch(reason);
  });

  it('accepts a CHR-style random key and hints only its last characters', () => {
    const chr = 'Zx81-kq0PbW2v9LmTe4RyU7n';
    expect(estimatedBits(chr)).toBeGreaterThan(96);
    expect(weakKeyReason(chr)).toBeNull();
    expect(keyHint(chr)).toBe('…yU7n');
  });
});
