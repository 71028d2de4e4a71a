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
    ['abcdefghijklmnopqrstuvwx', /too predictable/],
    ['password1234password1234', /too predictable/],
    ['6a734dd2649cab18d4c4308ff607322b', /too predictable/],
  ])('refuses the weak key %s', (key, reason) => {
    expect(weakKeyReason(key)).toMatch(reason);
  });

  it('accepts random keys from a tool (base64 of 32 bytes, 64 hex characters)', () => {
    expect(weakKeyReason('nvhdD1DK9bkUFqmn+PstwVfIQ/nGdASXPfMhB0i97uw=')).toBeNull();
    expect(weakKeyReason('33ed61505351dbcaa4167f1ea4df72148bd7dc87dcb4fda1c347e82b1e7748eb')).toBeNull();
  });

  it('accepts a CHR-style random key and hints only its last characters', () => {
    const chr = 'Zx81-kq0PbW2v9LmTe4RyU7n-admin';
    expect(estimatedBits(chr)).toBeGreaterThan(128);
    expect(weakKeyReason(chr)).toBeNull();
    expect(keyHint(chr)).toBe('…dmin');
  });
});
