// The PHI client against the real vault service process on the real stack (Postgres, Kafka,
// OpenBao): round trips, batch order, refusals, and how each failure is classified.
import { ServiceTokenIssuer } from '@cloud-connect/auth';
import {
  freePort,
  provisionSiteSek,
  ServiceProcess,
  serviceEnvFor,
  stackCtl,
  stackEnv,
  TEST_SERVICE_AUTH_SECRET,
  uniqueName,
  waitFor,
} from '@cloud-connect/testing';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { isPhiUnavailable, isSekMissing, PhiClientError, VaultPhiCipher } from './index';

const env = stackEnv();
const vaultSchema = uniqueName('phi_client_vault');
const siteNumber = (): string => String(700000000 + Math.floor(Math.random() * 99999999));
const A = siteNumber();
const B = siteNumber();

describe('VaultPhiCipher (real vault service and stack)', () => {
  let vault: ServiceProcess;
  let cipher: VaultPhiCipher;

  beforeAll(async () => {
    vault = new ServiceProcess(
      'vault',
      await freePort(),
      serviceEnvFor('vault', env, { DATABASE_SCHEMA: vaultSchema }),
    ).start();
    await vault.waitReady(90000);
    for (const site of [A, B])
      await provisionSiteSek({ vaultUrl: vault.url, databaseUrl: env.DATABASE_URL, vaultSchema, site });
    cipher = new VaultPhiCipher({
      baseUrl: vault.url,
      tokens: new ServiceTokenIssuer('referral-intake', TEST_SERVICE_AUTH_SECRET),
    });
  }, 180000);

  afterAll(async () => {
    await vault?.stop();
    const db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${vaultSchema}" CASCADE`);
    await db.end();
  });

  it('round-trips one record; the ciphertext holds no plaintext and differs each time', async () => {
    const plain = Buffer.from(`{"family":"Tremblay","hcn":"${randomBytes(5).toString('hex')}"}`);
    const first = await cipher.encrypt(A, 'referral/1', plain);
    const second = await cipher.encrypt(A, 'referral/1', plain);
    expect(first.includes(plain)).toBe(false);
    expect(first.equals(second)).toBe(false);
    expect((await cipher.decrypt(A, 'referral/1', first)).equals(plain)).toBe(true);
  });

  it('keeps the order of a batch both ways, and binds each item to its own record id', async () => {
    const items = Array.from({ length: 25 }, (_, i) => ({
      recordId: `rec-${i}`,
      data: Buffer.from(`payload ${i} ${'x'.repeat(i * 13)}`),
    }));
    const sealed = await cipher.encryptBatch(A, items);
    expect(sealed).toHaveLength(items.length);
    const opened = await cipher.decryptBatch(
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
    expect(swapped).toMatchObject({ status: 422, retryable: false });
  });

  it('coalesces concurrent single encryptions into batch calls, each record still its own', async () => {
    const plains = Array.from({ length: 40 }, (_, i) =>
      Buffer.from(`record ${i} ${randomBytes(4).toString('hex')}`),
    );
    const callsBefore = cipher.calls;
    const sealed = await Promise.all(plains.map((p, i) => cipher.encrypt(A, `co-${i}`, p)));
    const calls = cipher.calls - callsBefore;
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(calls).toBeLessThan(plains.length / 4);
    const opened = await cipher.decryptBatch(
      A,
      sealed.map((data, i) => ({ recordId: `co-${i}`, data })),
    );
    expect(opened.map(String)).toEqual(plains.map(String));
    // One bad record id in a coalesced batch fails only that record.
    const mixed = await Promise.allSettled([
      cipher.encrypt(A, 'ok-1', Buffer.from('a')),
      cipher.encrypt(A, 'ok-2', Buffer.from('b')),
      cipher.encrypt(A, 'not a valid id!', Buffer.from('c')),
      cipher.encrypt(A, 'ok-3', Buffer.from('d')),
    ]);
    expect(mixed.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
  });

  it('a ciphertext does not open under another site, and a site without an SEK is named as such', async () => {
    const sealed = await cipher.encrypt(A, 'referral/2', Buffer.from('for A only'));
    const moved = await cipher.decrypt(B, 'referral/2', sealed).catch((error: unknown) => error);
    expect(moved).toBeInstanceOf(PhiClientError);
    expect(moved).toMatchObject({ status: 422, retryable: false });
    expect(isPhiUnavailable(moved)).toBe(false);
    const none = await cipher.encrypt(siteNumber(), 'r', Buffer.from('x')).catch((error: unknown) => error);
    expect(isSekMissing(none)).toBe(true);
    expect(none).toMatchObject({ status: 404, code: 'sek-not-found', retryable: false });
  });

  it('a caller that is not an allowed service is refused (not retryable)', async () => {
    const scheduler = new VaultPhiCipher({
      baseUrl: vault.url,
      tokens: new ServiceTokenIssuer('scheduler', TEST_SERVICE_AUTH_SECRET),
    });
    const refused = await scheduler.encrypt(A, 'r', Buffer.from('x')).catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 403, retryable: false });
  });

  it('the vault service unreachable, or Vault down behind it: retryable errors, recovery after', async () => {
    const nowhere = new VaultPhiCipher({
      baseUrl: `http://127.0.0.1:${await freePort()}`,
      tokens: new ServiceTokenIssuer('referral-intake', TEST_SERVICE_AUTH_SECRET),
      timeoutMs: 2000,
    });
    const unreachable = await nowhere.encrypt(A, 'r', Buffer.from('x')).catch((error: unknown) => error);
    expect(unreachable).toMatchObject({ code: 'unreachable', retryable: true });
    // A site the service has not cached yet, so the call needs Vault.
    const fresh = siteNumber();
    await provisionSiteSek({ vaultUrl: vault.url, databaseUrl: env.DATABASE_URL, vaultSchema, site: fresh });
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
