// The PHI client against the real vault service process on the real stack (Postgres, Kafka,
// OpenBao): local envelope encryption under issued data keys (round trips, batch order, cache
// bounds, one audit entry per issuance), SEK replace/remove, records sealed by the per-record API
// still readable, refusals, and how each failure is classified.
import { ServiceTokenIssuer } from '@cloud-connect/auth';
import {
  freePort,
  provisionSiteSek,
  removeSiteSek,
  ServiceProcess,
  serviceEnvFor,
  stackCtl,
  stackEnv,
  testServiceKeys,
  uniqueName,
  waitFor,
} from '@cloud-connect/testing';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import {
  isPhiUnavailable,
  isSekMissing,
  PhiClientError,
  VaultPhiCipher,
  wrappedKeyOf,
  type DataKeyPolicy,
} from './index';

const env = stackEnv();
const vaultSchema = uniqueName('phi_client_vault');
const siteNumber = (): string => String(700000000 + Math.floor(Math.random() * 99999999));
const A = siteNumber();
const B = siteNumber();

describe('VaultPhiCipher (real vault service and stack)', () => {
  let vault: ServiceProcess;
  let cipher: VaultPhiCipher;
  const ciphers: VaultPhiCipher[] = [];
  const cipherWith = (dataKeys: Partial<DataKeyPolicy> = {}, service = 'referral-intake'): VaultPhiCipher => {
    const made = new VaultPhiCipher({
      baseUrl: vault.url,
      tokens: new ServiceTokenIssuer(service, testServiceKeys(service)),
      dataKeys,
    });
    ciphers.push(made);
    return made;
  };
  /** A new site with a random SEK stored by its admin. */
  const siteWithSek = async () => {
    const site = siteNumber();
    const sek = await provisionSiteSek({
      vaultUrl: vault.url,
      site,
    });
    return { site, sek };
  };
  /** Audit entries the vault service wrote (through its outbox) for an action on a site. */
  const audited = async (site: string, action: string): Promise<number> => {
    const db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    try {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${vaultSchema}".outbox
          WHERE envelope->>'siteId' = $1 AND envelope->'payload'->>'action' = $2`,
        [site, action],
      );
      return rows[0]?.n ?? 0;
    } finally {
      await db.end();
    }
  };

  beforeAll(async () => {
    vault = new ServiceProcess(
      'vault',
      await freePort(),
      serviceEnvFor('vault', env, { DATABASE_SCHEMA: vaultSchema }),
    ).start();
    await vault.waitReady(90000);
    for (const site of [A, B]) await provisionSiteSek({ vaultUrl: vault.url, site });
    cipher = cipherWith();
  }, 180000);

  afterAll(async () => {
    for (const c of ciphers) c.close();
    await vault?.stop();
    const db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${vaultSchema}" CASCADE`);
    await db.end();
  });

  it('round-trips locally under one issued data key; the vault service is called once, audited once', async () => {
    const { site } = await siteWithSek();
    const local = cipherWith();
    const plain = Buffer.from(`{"family":"Tremblay","hcn":"${randomBytes(5).toString('hex')}"}`);
    const first = await local.encrypt(site, 'referral/1', plain);
    const second = await local.encrypt(site, 'referral/1', plain);
    expect(first[0]).toBe(2);
    expect(first.includes(plain)).toBe(false);
    expect(first.equals(second)).toBe(false);
    expect(wrappedKeyOf(first).keyId).toBe(wrappedKeyOf(second).keyId);
    for (let i = 0; i < 50; i += 1) await local.encrypt(site, `referral/x${i}`, plain);
    expect((await local.decrypt(site, 'referral/1', first)).equals(plain)).toBe(true);
    expect(local.calls).toBe(1);
    expect(local.issued).toBe(1);
    // Another process (empty caches) unwraps the key once for all records under it.
    const reader = cipherWith();
    const opened = await reader.decryptBatch(site, [
      { recordId: 'referral/1', data: first },
      { recordId: 'referral/1', data: second },
    ]);
    expect(opened.every((b) => b.equals(plain))).toBe(true);
    expect(reader.calls).toBe(1);
    await waitFor('audit entries', async () => (await audited(site, 'phi.data-key.unwrap')) === 1, {
      timeoutMs: 10000,
    });
    expect(await audited(site, 'phi.data-key.issue')).toBe(1);
    expect(await audited(site, 'phi.encrypt')).toBe(0);
  });

  it('keeps the order of a batch both ways, and binds each item to its own record id', async () => {
    const items = Array.from({ length: 25 }, (_, i) => ({
      recordId: `rec-${i}`,
      data: Buffer.from(`payload ${i} ${'x'.repeat(i * 13)}`),
    }));
    const sealed = await cipher.encryptBatch(A, items);
    expect(sealed).toHaveLength(items.length);
    const opened = await cipherWith().decryptBatch(
      A,
      sealed.map((data, i) => ({ recordId: `rec-${i}`, data })),
    );
    expect(opened.map((b) => b.toString())).toEqual(items.map((i) => i.data.toString()));
    const swapped = await cipher
      .decryptBatch(A, [
        { recordId: 'rec-0', data: sealed[0]! },
        { recordId: 'rec-1', data: sealed[2]! },
      ])
      .catch((error: unknown) => error);
    expect(swapped).toBeInstanceOf(PhiClientError);
    expect(swapped).toMatchObject({ status: 422, code: 'not-authentic', retryable: false });
    // A bad record id fails only its own call.
    const mixed = await Promise.allSettled([
      cipher.encrypt(A, 'ok-1', Buffer.from('a')),
      cipher.encrypt(A, 'not a valid id!', Buffer.from('c')),
      cipher.encrypt(A, 'ok-3', Buffer.from('d')),
    ]);
    expect(mixed.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((mixed[1] as PromiseRejectedResult).reason).toMatchObject({ status: 400, retryable: false });
  });

  it('bounds a data key by record count and by age, and the unwrapped-key cache by size', async () => {
    const byCount = cipherWith({ maxRecords: 5 });
    const plains = Array.from({ length: 40 }, (_, i) => Buffer.from(`record ${i}`));
    const sealed = await Promise.all(plains.map((p, i) => byCount.encrypt(A, `co-${i}`, p)));
    expect(byCount.issued).toBe(8);
    const perKey = new Map<string, number>();
    for (const s of sealed) perKey.set(wrappedKeyOf(s).keyId, (perKey.get(wrappedKeyOf(s).keyId) ?? 0) + 1);
    expect([...perKey.values()].every((n) => n <= 5)).toBe(true);
    expect(perKey.size).toBe(8);

    const byAge = cipherWith({ maxAgeMs: 300 });
    const early = await byAge.encrypt(A, 'age-1', Buffer.from('a'));
    expect(wrappedKeyOf(await byAge.encrypt(A, 'age-2', Buffer.from('b'))).keyId).toBe(
      wrappedKeyOf(early).keyId,
    );
    // The sweep drops (and zeroes) the expired key without anyone reading it.
    await waitFor('expired key swept', () => Promise.resolve(byAge.cachedKeys.encrypt === 0), {
      timeoutMs: 3000,
      intervalMs: 20,
    });
    const late = await byAge.encrypt(A, 'age-3', Buffer.from('c'));
    expect(wrappedKeyOf(late).keyId).not.toBe(wrappedKeyOf(early).keyId);
    expect(byAge.issued).toBe(2);

    const small = cipherWith({ unwrapCacheSize: 3 });
    const opened = await small.decryptBatch(
      A,
      sealed.map((data, i) => ({ recordId: `co-${i}`, data })),
    );
    expect(opened.map(String)).toEqual(plains.map(String));
    expect(small.cachedKeys.decrypt).toBeLessThanOrEqual(3);
    expect(small.calls).toBe(1);
  });

  it('SEK replace: new data keys under the new version, earlier records stay readable', async () => {
    const { site, sek } = await siteWithSek();
    const writer = cipherWith();
    const before = await writer.encrypt(site, 'r-1', Buffer.from('under version 1'));
    await sek.replace();
    // Within its window the cached key keeps encrypting under version 1 (documented); a new
    // key (after the window, or in a new process) is issued under version 2.
    expect(wrappedKeyOf(await writer.encrypt(site, 'r-2', Buffer.from('x'))).sekVersion).toBe(
      wrappedKeyOf(before).sekVersion,
    );
    writer.forget(site);
    const after = await writer.encrypt(site, 'r-3', Buffer.from('under version 2'));
    expect(wrappedKeyOf(after).sekVersion).toBe(wrappedKeyOf(before).sekVersion + 1);
    const reader = cipherWith();
    expect((await reader.decrypt(site, 'r-1', before)).toString()).toBe('under version 1');
    expect((await reader.decrypt(site, 'r-3', after)).toString()).toBe('under version 2');
  });

  it('SEK remove: issuance stops at once; cached keys only within their window; nothing opens after', async () => {
    const { site, sek } = await siteWithSek();
    const writer = cipherWith({ maxRecords: 3 });
    const sealed = await writer.encrypt(site, 'r-1', Buffer.from('soon unreadable'));
    expect(await removeSiteSek(vault.url, sek)).toBe(200);
    // The cached key has two uses left (the documented window), then issuance is refused.
    await writer.encrypt(site, 'r-2', Buffer.from('x'));
    await writer.encrypt(site, 'r-3', Buffer.from('x'));
    const refused = await writer.encrypt(site, 'r-4', Buffer.from('x')).catch((error: unknown) => error);
    expect(isSekMissing(refused)).toBe(true);
    const fresh = await cipherWith()
      .encrypt(site, 'r-5', Buffer.from('x'))
      .catch((error: unknown) => error);
    expect(isSekMissing(fresh)).toBe(true);
    const unreadable = await cipherWith()
      .decrypt(site, 'r-1', sealed)
      .catch((error: unknown) => error);
    expect(unreadable).toMatchObject({ status: 422, retryable: false });
  });

  it('records sealed by the per-record API (format 1) stay readable', async () => {
    const token = await new ServiceTokenIssuer(
      'referral-intake',
      testServiceKeys('referral-intake'),
    ).tokenFor('vault');
    const response = await fetch(`${vault.url}/sites/${A}/phi/encrypt`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        items: [{ recordId: 'old/1', plaintext: Buffer.from('old record').toString('base64') }],
      }),
    });
    const old = Buffer.from(
      ((await response.json()) as { items: { ciphertext: string }[] }).items[0]!.ciphertext,
      'base64',
    );
    expect(old[0]).toBe(1);
    const fresh = await cipher.encrypt(A, 'new/1', Buffer.from('new record'));
    const opened = await cipherWith().decryptBatch(A, [
      { recordId: 'old/1', data: old },
      { recordId: 'new/1', data: fresh },
    ]);
    expect(opened.map(String)).toEqual(['old record', 'new record']);
    const moved = await cipher.decrypt(A, 'old/2', old).catch((error: unknown) => error);
    expect(moved).toMatchObject({ status: 422, retryable: false });
  });

  it('a ciphertext does not open under another site, and a site without an SEK is named as such', async () => {
    const sealed = await cipher.encrypt(A, 'referral/2', Buffer.from('for A only'));
    const moved = await cipherWith()
      .decrypt(B, 'referral/2', sealed)
      .catch((error: unknown) => error);
    expect(moved).toBeInstanceOf(PhiClientError);
    expect(moved).toMatchObject({ status: 422, retryable: false });
    expect(isPhiUnavailable(moved)).toBe(false);
    const none = await cipher.encrypt(siteNumber(), 'r', Buffer.from('x')).catch((error: unknown) => error);
    expect(isSekMissing(none)).toBe(true);
    expect(none).toMatchObject({ status: 404, code: 'sek-not-found', retryable: false });
  });

  it('a caller that is not an allowed service is refused (not retryable)', async () => {
    const scheduler = cipherWith({}, 'scheduler');
    const refused = await scheduler.encrypt(A, 'r', Buffer.from('x')).catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 403, retryable: false });
  });

  it('the vault service unreachable, or Vault down behind it: retryable errors, recovery after', async () => {
    const nowhere = new VaultPhiCipher({
      baseUrl: `http://127.0.0.1:${await freePort()}`,
      tokens: new ServiceTokenIssuer('referral-intake', testServiceKeys('referral-intake')),
      timeoutMs: 2000,
    });
    const unreachable = await nowhere.encrypt(A, 'r', Buffer.from('x')).catch((error: unknown) => error);
    expect(unreachable).toMatchObject({ code: 'unreachable', retryable: true });
    // A site the service has not cached yet, so the call needs Vault.
    const fresh = siteNumber();
    await provisionSiteSek({ vaultUrl: vault.url, site: fresh });
    const later = siteNumber();
    try {
      await stackCtl('stop', 'vault');
      await waitFor('readiness to go false', async () => (await vault.readiness()).status === 503, {
        timeoutMs: 20000,
      });
      const down = await cipher.encrypt(later, 'r', Buffer.from('x')).catch((error: unknown) => error);
      expect(down).toMatchObject({ status: 503, retryable: true });
      expect(isPhiUnavailable(down)).toBe(true);
    } finally {
      await stackCtl('start', 'vault');
    }
    await vault.waitReady(60000);
    const sealed = await cipher.encrypt(fresh, 'r', Buffer.from('back'));
    expect((await cipher.decrypt(fresh, 'r', sealed)).toString()).toBe('back');
  }, 120000);
});
