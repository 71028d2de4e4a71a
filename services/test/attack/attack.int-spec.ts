// The attack suite: one case per hole of the security review, each an attack on the real stack
// (Postgres, Kafka, OpenBao, services as processes under their real AppRoles) that the code
// before the fix let through. Ends by grepping every captured service log for the secrets used.
import {
  provisionSiteSek,
  sleep,
  stackEnv,
  uniqueName,
  waitFor,
  type ProvisionedSek,
} from '@cloud-connect/testing';
import { Client } from 'pg';
import { addServiceRequestWithQuirks } from '@cloud-connect/testing';
import {
  httpFrom,
  leakedInLogs,
  revokeTokensOfRole,
  startIntake,
  startVaultService,
  type VaultUnderTest,
} from './support';

const env = stackEnv();
const prefix = uniqueName('atk');
const vaultSchema = `${prefix}_vault`;
const intakeSchema = `${prefix}_intake`;
const site = String(700000000 + Math.floor(Math.random() * 99999999));
const otherSite = String(Number(site) + 1);
/** The role's tokens live 4 s and at most 8 s: the suite runs far longer than that. */
const LIFETIMES = { tokenTtl: '4s', tokenMaxTtl: '8s' };
const secrets: string[] = [env.VAULT_TOKEN];

describe('attack suite (real stack, services under their real AppRoles)', () => {
  let vault: VaultUnderTest;
  let intake: VaultUnderTest;
  let provisioned: ProvisionedSek;
  let otherProvisioned: ProvisionedSek;
  let db: Client;
  let startedAt: number;

  const url = (path: string): string => `${vault.service.url}${path}`;

  async function auditSources(action: string): Promise<(string | null)[]> {
    const answer = await httpFrom('127.0.0.1', url(`/sites/${site}/audit?limit=1000&action=${action}`), {
      headers: { authorization: `Bearer ${await provisioned.adminToken()}` },
    });
    expect(answer.status).toBe(200);
    return (answer.body['entries'] as { sourceAddress: string | null }[]).map((e) => e.sourceAddress);
  }

  beforeAll(async () => {
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    startedAt = Date.now();
    vault = await startVaultService(env, vaultSchema, `atk-${prefix}`, LIFETIMES);
    secrets.push(vault.secretId);
    provisioned = await provisionSiteSek({
      vaultUrl: vault.service.url,
      site,
    });
    otherProvisioned = await provisionSiteSek({
      vaultUrl: vault.service.url,
      site: otherSite,
    });
    intake = await startIntake(env, intakeSchema, `atk-intake-${prefix}`, vault.service.url, LIFETIMES);
    secrets.push(intake.secretId);
  }, 240000);

  afterAll(async () => {
    await Promise.all([intake?.service.stop(), vault?.service.stop()]);
    await Promise.all([intake?.remove(), vault?.remove()]);
    for (const schema of [intakeSchema, vaultSchema])
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
  });

  describe('Vault token lifecycle', () => {
    it('stays ready past the token max TTL (renewal, then a fresh login) and keeps using Vault', async () => {
      // Poll for at least 10 s (longer than the role's max TTL) and until 20 s after start.
      const until = Math.max(startedAt + 20000, Date.now() + 10000);
      let polls = 0;
      while (Date.now() < until && polls < 200) {
        const readiness = await vault.service.readiness();
        expect(readiness.body.checks['vault']).toBe('up');
        polls += 1;
        await sleep(500);
      }
      // Vault reads and writes still work with whatever token the service now holds.
      await provisioned.replace();
      const view = await httpFrom('127.0.0.1', url(`/sites/${site}/sek`), {
        headers: { authorization: `Bearer ${await provisioned.adminToken()}` },
      });
      expect(view.status).toBe(200);
      expect(view.body['sek']).toBe(provisioned.sek);
    }, 60000);

    it('logs in again when its token is revoked (403), and readiness recovers', async () => {
      expect(await revokeTokensOfRole(env, vault.role)).toBeGreaterThan(0);
      await waitFor(
        'the vault service to report vault up again',
        async () => {
          const readiness = await vault.service.readiness();
          return readiness.status === 200 && readiness.body.checks['vault'] === 'up';
        },
        { timeoutMs: 20000, intervalMs: 500 },
      );
      const view = await httpFrom('127.0.0.1', url(`/sites/${site}/sek`), {
        headers: { authorization: `Bearer ${await provisioned.adminToken()}` },
      });
      expect(view.status).toBe(200);
    }, 60000);
  });

  describe('client address', () => {
    it('a spoofed X-Forwarded-For from an untrusted peer is ignored: the audit shows the real peer', async () => {
      const token = await provisioned.adminToken();
      const spoofed = await httpFrom('127.0.0.1', url(`/sites/${site}/sek`), {
        headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.66' },
      });
      expect(spoofed.status).toBe(200);
      // Through the configured proxy (127.0.0.2) the forwarded client is believed…
      const proxied = await httpFrom('127.0.0.2', url(`/sites/${site}/sek`), {
        headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '198.51.100.23' },
      });
      expect(proxied.status).toBe(200);
      // …but only when it is an address: anything else leaves the proxy's own address.
      const garbage = await httpFrom('127.0.0.2', url(`/sites/${site}/sek`), {
        headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '<img src=x>, 10.0.0.1' },
      });
      expect(garbage.status).toBe(200);
      const sources = await waitFor(
        'the three views in the audit trail',
        async () => {
          const found = await auditSources('sek.view');
          return found.includes('198.51.100.23') && found.includes('127.0.0.2') ? found : null;
        },
        { timeoutMs: 30000, intervalMs: 500 },
      );
      expect(sources).toContain('127.0.0.1');
      expect(sources).not.toContain('203.0.113.66');
      expect(sources.some((s) => s?.includes('<img'))).toBe(false);
    }, 60000);
  });

  describe('inbound API keys', () => {
    async function createIntegration(
      owner: ProvisionedSek,
      body: Record<string, unknown>,
    ): Promise<{ status: number; body: Record<string, unknown> }> {
      const answer = await httpFrom(
        '127.0.0.1',
        `${intake.service.url}/admin/sites/${owner.site}/integrations`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${await owner.adminToken()}` },
          body,
        },
      );
      return { status: answer.status, body: answer.body };
    }
    const post = (headers: Record<string, string>): Promise<number> =>
      httpFrom('127.0.0.1', `${intake.service.url}/public/ocean/fhir_bundles`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', ...headers },
        body: addServiceRequestWithQuirks(),
      }).then((a) => a.status);

    it('a weak admin-supplied key is refused with 400 and nothing is created', async () => {
      for (const key of [
        'abcdefghijklmnopqrstuvwx',
        'password1234password1234',
        'Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!',
      ]) {
        const weak = await createIntegration(provisioned, { name: `weak ${key.slice(0, 6)}`, key });
        expect(weak.status).toBe(400);
        expect(JSON.stringify(weak.body)).toMatch(/key/);
        expect(JSON.stringify(weak.body)).not.toContain(key);
      }
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM "${intakeSchema}".integrations`);
      expect(rows[0]?.n).toBe(0);
    });

    it("a key counts only in its own integration's header; another site's header name changes nothing here", async () => {
      const mine = await createIntegration(provisioned, { name: 'CHR', authHeaderName: 'X-Clinic-Key' });
      expect(mine.status).toBe(201);
      const key = mine.body['apiKey'] as string;
      secrets.push(key);
      // Another site registers a header name this sender also happens to send (its User-Agent).
      const theirs = await createIntegration(otherProvisioned, {
        name: 'Other',
        authHeaderName: 'User-Agent',
      });
      expect(theirs.status).toBe(201);
      secrets.push(theirs.body['apiKey'] as string);
      await sleep(2500); // the inbound path refreshes registered header names every 2 s
      expect(await post({ 'x-clinic-key': key, 'user-agent': 'chr-sender/1.0' })).toBe(200);
      // This site's key under the other integration's header name (or the default one) is not accepted.
      expect(await post({ 'user-agent': key })).toBe(401);
      expect(await post({ 'referral-integration-api-key': key })).toBe(401);
    }, 60000);
  });

  describe('throttles', () => {
    it('OAuth token endpoint: 100 parallel wrong client secrets, at most the client limit (10) reach Argon2', async () => {
      const created = await httpFrom('127.0.0.1', `${intake.service.url}/admin/sites/${site}/oauth-clients`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await provisioned.adminToken()}` },
        body: { name: 'Puller', scopes: ['system/ServiceRequest.rs'] },
      });
      expect(created.status).toBe(201);
      const clientId = (created.body['client'] as { clientId: string }).clientId;
      secrets.push(created.body['clientSecret'] as string);
      const guesses = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          httpFrom('127.0.0.1', `${intake.service.url}/oauth/token`, {
            method: 'POST',
            form: { grant_type: 'client_credentials', client_id: clientId, client_secret: `wrong-${i}` },
          }),
        ),
      );
      const statuses = guesses.map((g) => g.status);
      expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
      expect(statuses.filter((s) => s === 401 || s === 429).length).toBe(100);
      // The right secret is refused too while the client id is over its limit.
      const right = await httpFrom('127.0.0.1', `${intake.service.url}/oauth/token`, {
        method: 'POST',
        form: {
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: created.body['clientSecret'] as string,
        },
      });
      expect(right.status).toBe(429);
    }, 60000);

    it('100 parallel wrong passwords: at most the limit reach Argon2 (401), the rest 429, across a restart', async () => {
      const victim = provisioned.adminEmail;
      const attacker = '198.51.100.77';
      const guesses = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          httpFrom('127.0.0.2', url('/auth/login'), {
            method: 'POST',
            headers: { 'x-forwarded-for': attacker },
            body: { email: victim, password: `wrong-guess-${i}` },
          }),
        ),
      );
      const statuses = guesses.map((g) => g.status);
      expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(95);
      expect(guesses.find((g) => g.status === 429)?.headers['retry-after']).toBeDefined();
      // The counters live in Postgres: a restarted replica still refuses this account.
      await vault.service.stop();
      vault.service.start();
      await vault.service.waitReady(90000);
      const after = await httpFrom('127.0.0.2', url('/auth/login'), {
        method: 'POST',
        headers: { 'x-forwarded-for': attacker },
        body: { email: victim, password: 'one-more-guess' },
      });
      expect(after.status).toBe(429);
      const { rows } = await db.query<{ count: number }>(
        `SELECT count FROM "${vaultSchema}".attempt_counters WHERE key = $1`,
        [`email:${victim.toLowerCase()}`],
      );
      expect(rows[0]?.count).toBeGreaterThan(5);
    }, 180000);
  });

  describe('leaks', () => {
    it('no secret or key of this suite appears in any captured service log', () => {
      expect(leakedInLogs(secrets)).toEqual([]);
    });
  });
});
