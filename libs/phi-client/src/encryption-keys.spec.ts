import { randomBytes } from 'node:crypto';
import { EncryptionKeys, type IssuedDataKey } from './encryption-keys';

describe('data keys for local encryption (bounded by records, age and sites; zeroed on eviction)', () => {
  let now = 0;
  let issuedKeys: IssuedDataKey[] = [];
  const issue = (): Promise<IssuedDataKey> => {
    const key = { keyId: String(issuedKeys.length), key: randomBytes(32), wrapped: randomBytes(89) };
    issuedKeys.push(key);
    return Promise.resolve(key);
  };
  const keyIdOf = (keys: EncryptionKeys, site: string): Promise<string> =>
    keys.use(site, (key) => issuedKeys.find((k) => k.key === key)?.keyId ?? 'none');
  const zeroed = (k: IssuedDataKey): boolean => k.key.every((b) => b === 0);

  beforeEach(() => {
    now = 0;
    issuedKeys = [];
  });

  it('uses one key for at most maxRecords records, then issues a new one and zeroes the old', async () => {
    const keys = new EncryptionKeys({ maxAgeMs: 60000, maxRecords: 3, maxSites: 10 }, issue, () => now);
    const used = [];
    for (let i = 0; i < 7; i += 1) used.push(await keyIdOf(keys, '1234'));
    expect(used).toEqual(['0', '0', '0', '1', '1', '1', '2']);
    expect(keys.issued).toBe(3);
    expect(zeroed(issuedKeys[0]!)).toBe(true);
    expect(zeroed(issuedKeys[1]!)).toBe(true);
    expect(zeroed(issuedKeys[2]!)).toBe(false);
  });

  it('uses one key for at most maxAgeMs; sweep zeroes an idle key that expired', async () => {
    const keys = new EncryptionKeys({ maxAgeMs: 1000, maxRecords: 100, maxSites: 10 }, issue, () => now);
    expect(await keyIdOf(keys, '1234')).toBe('0');
    now = 999;
    expect(await keyIdOf(keys, '1234')).toBe('0');
    now = 1000;
    expect(await keyIdOf(keys, '1234')).toBe('1');
    expect(zeroed(issuedKeys[0]!)).toBe(true);
    now = 2500;
    keys.sweep();
    expect(keys.size).toBe(0);
    expect(zeroed(issuedKeys[1]!)).toBe(true);
  });

  it('keeps one key per site, at most maxSites, and each site its own key', async () => {
    const keys = new EncryptionKeys({ maxAgeMs: 60000, maxRecords: 100, maxSites: 2 }, issue, () => now);
    expect(await keyIdOf(keys, 'a')).toBe('0');
    expect(await keyIdOf(keys, 'b')).toBe('1');
    expect(await keyIdOf(keys, 'c')).toBe('2');
    expect(keys.size).toBe(2);
    expect(zeroed(issuedKeys[0]!)).toBe(true);
    expect(await keyIdOf(keys, 'b')).toBe('1');
    keys.forget('b');
    expect(zeroed(issuedKeys[1]!)).toBe(true);
    keys.forget();
    expect(keys.size).toBe(0);
    expect(issuedKeys.every(zeroed)).toBe(true);
  });

  it('concurrent uses share one issuance; a failed issuance fails them and is not cached', async () => {
    let calls = 0;
    let fail = true;
    const slow = async (): Promise<IssuedDataKey> => {
      calls += 1;
      await new Promise((r) => setTimeout(r, 10));
      if (fail) throw new Error('vault service unavailable');
      return issue();
    };
    const keys = new EncryptionKeys({ maxAgeMs: 60000, maxRecords: 1000, maxSites: 10 }, slow);
    const failed = await Promise.allSettled(Array.from({ length: 20 }, () => keys.use('1', () => 1)));
    expect(failed.every((r) => r.status === 'rejected')).toBe(true);
    expect(calls).toBe(1);
    fail = false;
    const ok = await Promise.all(Array.from({ length: 20 }, () => keys.use('1', () => 1)));
    expect(ok).toHaveLength(20);
    expect(calls).toBe(2);
  });

  it('serves every concurrent use when keys are used up faster than issued (each issuance serves maxRecords)', async () => {
    const keys = new EncryptionKeys({ maxAgeMs: 60000, maxRecords: 2, maxSites: 10 }, issue);
    const results = await Promise.all(Array.from({ length: 41 }, () => keyIdOf(keys, '1')));
    expect(results).toHaveLength(41);
    expect(keys.issued).toBe(21);
    const perKey = new Map<string, number>();
    for (const id of results) perKey.set(id, (perKey.get(id) ?? 0) + 1);
    expect(Math.max(...perKey.values())).toBe(2);
    expect(issuedKeys.slice(0, -1).every(zeroed)).toBe(true);
  });
});
