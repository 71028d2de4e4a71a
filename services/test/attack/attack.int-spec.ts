// The attack suite: one case per hole of the security review, each an attack on the real stack
// (Postgres, Kafka, OpenBao, services as processes under their real AppRoles) that the code
// before the fix let through. Ends by grepping every captured service log for the secrets used.
import { createPrivateKey } from 'node:crypto';
import { ServiceTokenIssuer } from '@cloud-connect/auth';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { PRODUCT_EVENTS } from '@cloud-connect/contracts';
import { OUTBOX_CHECKPOINT_TOPIC } from '@cloud-connect/db';
import { EventRegistry, type Envelope } from '@cloud-connect/kafka';
import { auditEvent } from '@cloud-connect/service-kit';
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import {
  createUser,
  provisionSiteSek,
  signIn,
  sleep,
  TEST_OPERATOR_TOKEN,
  testServiceKeys,
  stackEnv,
  TEST_SERVICE_AUTH_SECRET,
  uniqueName,
  waitFor,
  type ProvisionedSek,
} from '@cloud-connect/testing';
import { randomBytes } from 'node:crypto';
import { importJWK, SignJWT, type KeyLike } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { Client } from 'pg';
import { addServiceRequestWithQuirks } from '@cloud-connect/testing';
import {
  ageRetiredSigningKeys,
  httpFrom,
  leakedInLogs,
  otlpReceiver,
  readSigningKeys,
  recordingServer,
  revokeTokensOfRole,
  startIntake,
  startPhiService,
  startVaultService,
  type HttpAnswer,
  type OtlpReceiver,
  type RecordingServer,
  type VaultUnderTest,
} from './support';

const env = stackEnv();
const prefix = uniqueName('atk');
const vaultSchema = `${prefix}_vault`;
const intakeSchema = `${prefix}_intake`;
const emrSchema = `${prefix}_emr`;
/** The EMR answer cap the suite runs emr-gateway with (an oversize answer is easy to make). */
const EMR_MAX_RESPONSE_BYTES = 64 * 1024;
const site = String(700000000 + Math.floor(Math.random() * 99999999));
const otherSite = String(Number(site) + 1);
/** The role's tokens live 6 s and at most 12 s: the suite runs far longer than that. */
const LIFETIMES = { tokenTtl: '6s', tokenMaxTtl: '12s' };
const SECOND_ADMIN_PASSWORD = 'a second admin passphrase 7319';
const secrets: string[] = [env.VAULT_TOKEN, SECOND_ADMIN_PASSWORD];
/** Test PHI the suite sends: the eReferral fixture's patient, and the health card number it searches. */
const phiValues: string[] = fixturePatientPhi();

function fixturePatientPhi(): string[] {
  const entries = (addServiceRequestWithQuirks() as { entry: { resource: Record<string, unknown> }[] }).entry;
  const patient = entries.map((e) => e.resource).find((r) => r['resourceType'] === 'Patient');
  if (!patient) throw new Error('the fixture bundle has no Patient');
  const values = [
    ...(patient['name'] as { family: string }[]).map((n) => n.family),
    ...(patient['identifier'] as { value?: string }[]).map((i) => i.value),
    ...(patient['telecom'] as { value: string }[]).map((t) => t.value),
    patient['birthDate'] as string,
  ];
  return values.filter((v): v is string => typeof v === 'string');
}
/** Failed API-key checks intake allows per source address and per key prefix (its window: 60 s). */
const KEY_FAILURES_PER_ADDRESS = 10;
const KEY_FAILURES_PER_PREFIX = 10;

describe('attack suite (real stack, services under their real AppRoles)', () => {
  let vault: VaultUnderTest;
  let intake: VaultUnderTest;
  let emr: VaultUnderTest;
  let provisioned: ProvisionedSek;
  let otherProvisioned: ProvisionedSek;
  let db: Client;
  let startedAt: number;
  /** Intake exports every trace here (sampling ratio 1, a short batch delay). */
  let traces: OtlpReceiver;

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
    traces = await otlpReceiver();
    intake = await startIntake(env, intakeSchema, `atk-intake-${prefix}`, vault.service.url, LIFETIMES, {
      OTEL_EXPORTER_OTLP_ENDPOINT: traces.url,
      TRACE_SAMPLE_RATIO: '1',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      INTAKE_KEY_THROTTLE_ADDRESS_MAX_FAILURES: String(KEY_FAILURES_PER_ADDRESS),
      INTAKE_KEY_THROTTLE_PREFIX_MAX_FAILURES: String(KEY_FAILURES_PER_PREFIX),
    });
    secrets.push(intake.secretId);
    emr = await startPhiService(
      'emr-gateway',
      env,
      emrSchema,
      `atk-emr-${prefix}`,
      vault.service.url,
      LIFETIMES,
      {
        EMR_MAX_RESPONSE_BYTES: String(EMR_MAX_RESPONSE_BYTES),
        EMR_HTTP_TIMEOUT_MS: '5000',
      },
    );
    secrets.push(emr.secretId);
  }, 300000);

  afterAll(async () => {
    await Promise.all([emr?.service.stop(), intake?.service.stop(), vault?.service.stop()]);
    await Promise.all([emr?.remove(), intake?.remove(), vault?.remove(), traces?.close()]);
    for (const schema of [emrSchema, intakeSchema, vaultSchema])
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
  });

  describe('Vault token lifecycle', () => {
    it('stays ready past the token max TTL (renewal, then a fresh login) and keeps using Vault', async () => {
      // Poll for at least 14 s (longer than the role's max TTL) and until 26 s after start.
      const until = Math.max(startedAt + 26000, Date.now() + 14000);
      let polls = 0;
      while (Date.now() < until && polls < 200) {
        const readiness = await vault.service.readiness();
        expect(readiness.body.checks['vault']).toBe('up');
        polls += 1;
        await sleep(500);
      }
      // The metrics the chart's token-expiry alert reads: a live lease with time left.
      const metrics = await (await fetch(`${vault.service.url}/metrics`)).text();
      const sample = (name: string): number =>
        Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN);
      const lease = sample('vault_token_lease_seconds');
      const left = sample('vault_token_expires_in_seconds');
      expect(lease).toBeGreaterThan(0);
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(lease);
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

    const postFrom = (from: string, key: string): Promise<HttpAnswer> =>
      httpFrom(from, `${intake.service.url}/public/ocean/fhir_bundles`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', 'referral-integration-api-key': key },
        body: addServiceRequestWithQuirks(),
      });

    it('wrong keys from one address: 401 up to the limit, then 429 with Retry-After before any check; another address with a valid key is served', async () => {
      const valid = await createIntegration(provisioned, { name: 'Throttle victim' });
      expect(valid.status).toBe(201);
      const key = valid.body['apiKey'] as string;
      secrets.push(key);
      const attacker = '127.0.0.3';
      const guesses = await Promise.all(
        Array.from({ length: 3 * KEY_FAILURES_PER_ADDRESS }, () =>
          postFrom(attacker, `ccik_${randomBytes(32).toString('base64url')}`),
        ),
      );
      const statuses = guesses.map((g) => g.status);
      expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(KEY_FAILURES_PER_ADDRESS);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2 * KEY_FAILURES_PER_ADDRESS);
      const refused = guesses.find((g) => g.status === 429);
      expect(Number(refused?.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused?.body['resourceType']).toBe('OperationOutcome');
      // Blocked: even the right key is not checked from that address now (it is not cached yet).
      expect((await postFrom(attacker, key)).status).toBe(429);
      // Another address with the valid key is not affected.
      expect((await postFrom('127.0.0.4', key)).status).toBe(200);
      // The counter lives in Postgres (shared by replicas); it holds the address, never a key.
      const { rows } = await db.query<{ key: string; count: number }>(
        `SELECT key, count FROM "${intakeSchema}".attempt_counters WHERE key LIKE 'key-%'`,
      );
      expect(rows.find((r) => r.key === `key-address:${attacker}`)?.count).toBeGreaterThan(
        KEY_FAILURES_PER_ADDRESS,
      );
      expect(JSON.stringify(rows)).not.toContain(key.slice(0, 8));
    }, 60000);

    it('wrong keys sharing one prefix from many addresses are throttled by the prefix', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 2 * KEY_FAILURES_PER_PREFIX; i += 1) {
        const answer = await postFrom(
          `127.0.1.${10 + i}`,
          `ccik_Zq9${randomBytes(32).toString('base64url')}`,
        );
        statuses.push(answer.status);
      }
      expect(statuses.slice(0, KEY_FAILURES_PER_PREFIX)).toEqual(Array(KEY_FAILURES_PER_PREFIX).fill(401));
      expect(statuses.slice(KEY_FAILURES_PER_PREFIX)).toEqual(Array(KEY_FAILURES_PER_PREFIX).fill(429));
      // A key with another prefix from a fresh address is checked (and refused) as usual.
      expect((await postFrom('127.0.2.1', `ccik_Xy7${randomBytes(32).toString('base64url')}`)).status).toBe(
        401,
      );
    }, 60000);
  });

  describe('traces', () => {
    it('exported spans carry no query string: a searched health card number never reaches the trace backend', async () => {
      const hcn = `${Math.floor(9e9 * Math.random()) + 1e9}`;
      phiValues.push(hcn);
      const answer = await httpFrom(
        '127.0.0.1',
        `${intake.service.url}/fhir/ServiceRequest?identifier=https://health.gov.on.ca/hcn|${hcn}&_count=5`,
        { headers: { authorization: 'Bearer not-a-token' } },
      );
      expect(answer.status).toBe(401);
      await waitFor(
        'the request span exported',
        () => traces.bodies.some((b) => b.includes('/fhir/ServiceRequest')),
        {
          timeoutMs: 20000,
        },
      );
      const exported = traces.bodies.join('\n');
      expect(exported).not.toContain(hcn);
      expect(exported).not.toContain('identifier=');
      expect(exported).not.toContain('_count=');
      expect(exported).not.toMatch(/fhir\/ServiceRequest\?/);
    }, 60000);
  });

  describe('outbound calls (SSRF)', () => {
    const servers: RecordingServer[] = [];
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.close()));
    });
    /** An internal host that must never be reached: it records whoever calls it. */
    async function internalCollector(): Promise<RecordingServer> {
      const collector = await recordingServer('127.0.0.3', (_req, res) =>
        res.end('{"resourceType":"Bundle"}'),
      );
      servers.push(collector);
      return collector;
    }
    async function connectEmr(body: Record<string, unknown>): Promise<{ status: number; text: string }> {
      const answer = await httpFrom('127.0.0.1', `${emr.service.url}/admin/sites/${site}/emr`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${await provisioned.adminToken()}` },
        body,
      });
      return { status: answer.status, text: JSON.stringify(answer.body) };
    }
    const EMR_KEY = `emr-key-${prefix}-never-forwarded`;
    secrets.push(EMR_KEY);
    const fhirEmr = (baseUrl: string): Record<string, unknown> => ({
      type: 'fhir-r4',
      baseUrl,
      auth: { kind: 'api-key', apiKey: EMR_KEY, header: 'X-Emr-Key' },
    });

    it('an EMR base URL that redirects to an internal address is refused; the key header never reaches it', async () => {
      const collector = await internalCollector();
      const redirecting = await recordingServer('127.0.0.1', (_req, res) => {
        res.writeHead(307, { location: `${collector.url}/metadata` });
        res.end();
      });
      servers.push(redirecting);
      const answer = await connectEmr(fhirEmr(`${redirecting.url}/fhir`));
      expect(answer.status).toBe(422);
      expect(answer.text).toMatch(/redirect/);
      expect(answer.text).not.toContain(EMR_KEY);
      expect(redirecting.seen.length).toBeGreaterThan(0);
      expect(collector.seen).toEqual([]);
      // Nothing was saved: the site has no EMR connection.
      const status = await httpFrom('127.0.0.1', `${emr.service.url}/admin/sites/${site}/emr`, {
        headers: { authorization: `Bearer ${await provisioned.adminToken()}` },
      });
      expect((status.body['connection'] as { status: string }).status).toBe('not-configured');
    }, 60000);

    it('EMR base and token URLs on private, link-local or metadata addresses, or plain http, are refused (400) before any call', async () => {
      for (const baseUrl of [
        'https://169.254.169.254/latest/meta-data',
        'https://10.20.30.40/fhir',
        'https://[fd00:ec2::254]/fhir',
        'http://emr.clinic.example/fhir',
      ]) {
        const answer = await connectEmr(fhirEmr(baseUrl));
        expect(answer.status).toBe(400);
        expect(answer.text).toMatch(/baseUrl/);
      }
      const token = await connectEmr({
        type: 'fhir-r4',
        baseUrl: 'https://emr.clinic.example/fhir',
        auth: {
          kind: 'client-credentials',
          clientId: 'c',
          clientSecret: 's',
          tokenUrl: 'https://192.168.1.10/token',
        },
      });
      expect(token.status).toBe(400);
      expect(token.text).toMatch(/tokenUrl/);
    }, 60000);

    it('an oversize EMR answer fails with a capped error instead of being read whole', async () => {
      const huge = await recordingServer('127.0.0.1', (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/fhir+json' });
        for (let i = 0; i < 16; i++) res.write(Buffer.alloc(16 * 1024, 32));
        res.end('{}');
      });
      servers.push(huge);
      const answer = await connectEmr(fhirEmr(`${huge.url}/fhir`));
      expect(answer.status).toBe(422);
      expect(answer.text).toMatch(/larger than allowed/);
    }, 60000);

    async function createIntegration(
      body: Record<string, unknown>,
    ): Promise<{ status: number; body: Record<string, unknown> }> {
      const answer = await httpFrom('127.0.0.1', `${intake.service.url}/admin/sites/${site}/integrations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await provisioned.adminToken()}` },
        body,
      });
      return { status: answer.status, body: answer.body };
    }

    it('a copy request URL on a private or metadata address, or plain http, is refused at registration (400)', async () => {
      for (const requestUrl of [
        'https://10.0.0.7/fhir',
        'https://169.254.169.254/latest',
        'https://[::ffff:192.168.0.1]/copies',
        'http://receiver.clinic.example/copies',
      ]) {
        const refused = await createIntegration({
          name: `copy ${requestUrl.length}`,
          requestUrl,
          outboundKey: 'receiver-key',
          sendCopies: true,
        });
        expect(refused.status).toBe(400);
        expect(JSON.stringify(refused.body)).toMatch(/requestUrl/);
      }
      const { rows } = await db.query(
        `SELECT count(*)::int AS n FROM "${intakeSchema}".integrations WHERE name LIKE 'copy %'`,
      );
      expect(rows[0]?.n).toBe(0);
    }, 60000);

    it('at send, a copy to a private address or through a redirect is refused and logged as a category, the key never sent on', async () => {
      const collector = await internalCollector();
      const redirecting = await recordingServer('127.0.0.1', (_req, res) => {
        res.writeHead(308, { location: `${collector.url}/copies` });
        res.end();
      });
      servers.push(redirecting);
      const copyKey = `copy-key-${prefix}-outbound`;
      secrets.push(copyKey);
      const sender = await createIntegration({ name: 'Sender' });
      expect(sender.status).toBe(201);
      secrets.push(sender.body['apiKey'] as string);
      const viaRedirect = await createIntegration({
        name: 'Receiver behind a redirect',
        requestUrl: `${redirecting.url}/copies`,
        outboundKey: copyKey,
        sendCopies: true,
        authHeaderName: 'X-Receiver-Key',
      });
      expect(viaRedirect.status).toBe(201);
      secrets.push(viaRedirect.body['apiKey'] as string);
      const rebound = await createIntegration({
        name: 'Receiver whose address changed',
        requestUrl: `${redirecting.url}/rebound`,
        outboundKey: copyKey,
        sendCopies: true,
      });
      expect(rebound.status).toBe(201);
      secrets.push(rebound.body['apiKey'] as string);
      const reboundId = (rebound.body['integration'] as { id: string }).id;
      const redirectId = (viaRedirect.body['integration'] as { id: string }).id;
      // A URL stored before these rules, or whose name now resolves elsewhere: a private address.
      await db.query(`UPDATE "${intakeSchema}".integrations SET request_url = $1 WHERE id = $2`, [
        'https://10.255.255.1/copies',
        reboundId,
      ]);
      const posted = await httpFrom('127.0.0.1', `${intake.service.url}/public/ocean/fhir_bundles`, {
        method: 'POST',
        headers: {
          'content-type': 'application/fhir+json',
          'referral-integration-api-key': sender.body['apiKey'] as string,
        },
        body: addServiceRequestWithQuirks(),
      });
      expect(posted.status).toBe(200);
      const outcomes = await waitFor(
        'both copies dead-lettered',
        async () => {
          const { rows } = await db.query<{
            integration_id: string;
            status: string;
            last_error: string;
            attempts: number;
          }>(
            `SELECT integration_id, status, last_error, attempts FROM "${intakeSchema}".copy_deliveries
              WHERE integration_id = ANY($1)`,
            [[reboundId, redirectId]],
          );
          return rows.length === 2 && rows.every((r) => r.status === 'dead-lettered') ? rows : null;
        },
        { timeoutMs: 30000, intervalMs: 500 },
      );
      const byId = new Map(outcomes.map((r) => [r.integration_id, r]));
      expect(byId.get(reboundId)).toMatchObject({ last_error: 'forbidden-address', attempts: 1 });
      expect(byId.get(redirectId)).toMatchObject({ last_error: 'redirect', attempts: 1 });
      expect(collector.seen).toEqual([]);
      // The redirecting receiver got the copy (it is the configured endpoint), nobody else did.
      expect(redirecting.seen.filter((r) => r.path === '/copies')).toHaveLength(1);
    }, 60000);
  });

  describe('SEK remove', () => {
    it('is a soft delete: nothing sealed or opened while removed, restore brings everything back; destroy needs a second admin and the window', async () => {
      const s = otherSite;
      const serviceTokens = new ServiceTokenIssuer('referral-intake', testServiceKeys('referral-intake'));
      const phi = async (op: 'encrypt' | 'decrypt', item: Record<string, string>): Promise<HttpAnswer> =>
        httpFrom('127.0.0.1', url(`/sites/${s}/phi/${op}`), {
          method: 'POST',
          headers: { authorization: `Bearer ${await serviceTokens.tokenFor('vault')}` },
          body: { items: [item] },
        });
      const sekCall = (method: string, path: string, token: string): Promise<HttpAnswer> =>
        httpFrom('127.0.0.1', url(`/sites/${s}/sek${path}`), {
          method,
          headers: { authorization: `Bearer ${token}` },
        });
      const plaintext = Buffer.from(`attack-suite PHI ${prefix}`).toString('base64');
      secrets.push(Buffer.from(plaintext, 'base64').toString('utf8'));
      const sealed = await phi('encrypt', { recordId: 'record-1', plaintext });
      expect(sealed.status).toBe(200);
      const ciphertext = (sealed.body['items'] as { ciphertext: string }[])[0]?.ciphertext as string;
      const opens = async (): Promise<boolean> => {
        const opened = await phi('decrypt', { recordId: 'record-1', ciphertext });
        return (
          opened.status === 200 &&
          (opened.body['items'] as { plaintext: string }[])[0]?.plaintext === plaintext
        );
      };

      const second = `second-admin-${prefix}@clinic.example`;
      await createUser({
        vaultUrl: vault.service.url,
        email: second,
        password: SECOND_ADMIN_PASSWORD,
        siteNumber: s,
        role: 'admin',
      });
      const approver = await signIn(vault.service.url, second, SECOND_ADMIN_PASSWORD);
      const remover = await otherProvisioned.adminToken();
      const removed = await sekCall('DELETE', '', remover);
      expect(removed.status).toBe(200);
      expect(Date.parse(removed.body['recoverableUntil'] as string)).toBeGreaterThan(Date.now());
      // Removed: no new encryption, no decryption.
      expect((await phi('encrypt', { recordId: 'record-2', plaintext })).status).toBe(404);
      expect(await opens()).toBe(false);
      // The remover cannot approve its destruction (two-person rule).
      const self = await sekCall('POST', '/destroy-approval', remover);
      expect(self.status).toBe(403);
      expect(self.body['code']).toBe('two-person-rule');

      // Restore within the window: the same ciphertext opens again, new data can be sealed.
      expect((await sekCall('POST', '/restore', remover)).status).toBe(200);
      expect(await opens()).toBe(true);
      expect((await phi('encrypt', { recordId: 'record-3', plaintext })).status).toBe(200);

      // Remove again; a second admin approves; destroy is refused until the window has passed.
      const again = await sekCall('DELETE', '', remover);
      expect(again.status).toBe(200);
      // Without the second admin's approval, destroy is refused.
      expect((await sekCall('POST', '/destroy', approver)).status).toBe(409);
      expect((await sekCall('POST', '/destroy-approval', approver)).status).toBe(200);
      const early = await sekCall('POST', '/destroy', remover);
      expect(early.status).toBe(409);
      expect(early.body['code']).toBe('destroy-not-allowed-yet');
      await sleep(Math.max(0, Date.parse(again.body['recoverableUntil'] as string) - Date.now()) + 500);
      expect((await sekCall('POST', '/destroy', remover)).status).toBe(200);
      // Destroyed for good: nothing to restore, nothing opens.
      expect((await sekCall('POST', '/restore', remover)).status).toBe(409);
      expect(await opens()).toBe(false);

      const actions = await waitFor(
        'the removal steps in the audit trail',
        async () => {
          const answer = await httpFrom('127.0.0.1', url(`/sites/${s}/audit?limit=1000`), {
            headers: { authorization: `Bearer ${approver}` },
          });
          const entries = (answer.body['entries'] ?? []) as { action: string; outcome: string }[];
          const seen = entries.map((e) => `${e.action}:${e.outcome}`);
          return seen.includes('sek.destroy:allowed') ? seen : null;
        },
        { timeoutMs: 30000, intervalMs: 500 },
      );
      for (const expected of [
        'sek.remove:allowed',
        'sek.restore:allowed',
        'sek.approve-destroy:failed',
        'sek.approve-destroy:allowed',
        'sek.destroy:failed',
        'sek.destroy:allowed',
      ])
        expect(actions).toContain(expected);
    }, 90000);
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

  describe('admin sign-in', () => {
    const PASSPHRASE = 'amber glacier outpost 4471';
    const who = (name: string): string => `${name}-${site}@attack.test`;
    const login = (email: string, extra: Record<string, string> = {}) =>
      httpFrom('127.0.0.1', url('/auth/login'), {
        method: 'POST',
        body: { email, password: PASSPHRASE, ...extra },
      });
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const token = (answer: HttpAnswer): string => answer.body['access_token'] as string;

    /** A site admin of `site`, with an authenticator app set up when `app` (the test types its codes). */
    async function admin(name: string, app: boolean): Promise<{ email: string; totp?: TOTP }> {
      const email = who(name);
      await createUser({
        vaultUrl: vault.service.url,
        email,
        password: PASSPHRASE,
        siteNumber: site,
        totp: false,
      });
      if (!app) return { email };
      const first = token(await login(email));
      const begun = await httpFrom('127.0.0.1', url('/auth/mfa/totp'), {
        method: 'POST',
        headers: bearer(first),
        body: {},
      });
      const totp = new TOTP({ secret: Secret.fromBase32(begun.body['secret'] as string) });
      secrets.push(begun.body['secret'] as string);
      const confirmed = await httpFrom('127.0.0.1', url('/auth/mfa/totp/confirm'), {
        method: 'POST',
        headers: bearer(first),
        body: { code: totp.generate({ timestamp: Date.now() - 30000 }) },
      });
      expect(confirmed.status).toBe(200);
      return { email, totp };
    }

    beforeAll(() => {
      secrets.push(PASSPHRASE);
    });

    it('a revoked session is refused at once by the vault service and can no longer be refreshed', async () => {
      const { email, totp } = await admin('revoked', true);
      const signedIn = await login(email, { code: totp!.generate() });
      const stolen = token(signedIn);
      const read = () => httpFrom('127.0.0.1', url(`/admin/sites/${site}`), { headers: bearer(stolen) });
      expect((await read()).status).toBe(200);
      const out = await httpFrom('127.0.0.1', url('/auth/logout-everywhere'), {
        method: 'POST',
        headers: bearer(stolen),
        body: {},
      });
      expect(out.status).toBe(200);
      const refused = await read();
      expect(refused.status).toBe(401);
      expect(refused.body['code']).toBe('session-revoked');
      for (const body of [{ refresh_token: signedIn.body['refresh_token'] }, {}]) {
        const refresh = await httpFrom('127.0.0.1', url('/auth/refresh'), {
          method: 'POST',
          headers: bearer(stolen),
          body,
        });
        expect(refresh.status).toBe(401);
      }
    });

    it('a token signed by a replaced key past its overlap is refused; the new key works', async () => {
      const { email, totp } = await admin('rotation', true);
      const old = token(await login(email, { code: totp!.generate() }));
      const read = (t: string) => httpFrom('127.0.0.1', url(`/admin/sites/${site}`), { headers: bearer(t) });
      const operator = { authorization: `Bearer ${TEST_OPERATOR_TOKEN}` };
      const first = await httpFrom('127.0.0.1', url('/operator/signing-keys/rotate'), {
        method: 'POST',
        headers: operator,
        body: {},
      });
      expect(first.status).toBe(200);
      // Within the overlap the token signed by the replaced key still works.
      expect((await read(old)).status).toBe(200);
      const fresh = token(await login(email, { code: totp!.generate({ timestamp: Date.now() + 30000 }) }));
      // Time passes beyond the overlap; the next rotation drops the replaced key for good.
      await ageRetiredSigningKeys(env, 3600);
      expect(
        (
          await httpFrom('127.0.0.1', url('/operator/signing-keys/rotate'), {
            method: 'POST',
            headers: operator,
            body: {},
          })
        ).status,
      ).toBe(200);
      const refused = await read(old);
      expect(refused.status).toBe(401);
      expect((await read(fresh)).status).toBe(200);
      const jwks = (await httpFrom('127.0.0.1', url('/.well-known/jwks.json'))).body['keys'] as {
        kid: string;
      }[];
      expect(jwks).toHaveLength(2);
    });

    it('viewing the SEK or creating an integration key without an authenticator app: 403 mfa-required, nothing made', async () => {
      const { email } = await admin('nototp', false);
      const pwdOnly = token(await login(email));
      const view = await httpFrom('127.0.0.1', url(`/sites/${site}/sek`), { headers: bearer(pwdOnly) });
      expect(view.status).toBe(403);
      expect(view.body['code']).toBe('mfa-required');
      expect(view.body['sek']).toBeUndefined();
      const before = await db.query(`SELECT count(*)::int AS n FROM "${intakeSchema}".integrations`);
      const create = await httpFrom('127.0.0.1', `${intake.service.url}/admin/sites/${site}/integrations`, {
        method: 'POST',
        headers: bearer(pwdOnly),
        body: {
          name: 'exfiltration',
          requestUrl: 'https://203.0.113.9/hook',
          outboundKey: 'k',
          sendCopies: true,
        },
      });
      expect(create.status).toBe(403);
      expect(create.body['code']).toBe('mfa-required');
      const after = await db.query(`SELECT count(*)::int AS n FROM "${intakeSchema}".integrations`);
      expect(after.rows[0].n).toBe(before.rows[0].n);
    });

    it('an action that moves data out, with a sign-in 10 minutes old: 401 step-up-required on every service', async () => {
      const { email, totp } = await admin('stale', true);
      const signedIn = token(await login(email, { code: totp!.generate() }));
      // The same session, as a refreshed token 10 minutes after the sign-in carries it.
      const claims = JSON.parse(Buffer.from(signedIn.split('.')[1]!, 'base64url').toString()) as Record<
        string,
        unknown
      >;
      const { data } = await readSigningKeys(env);
      const key = (await importJWK(data.privateJwk, 'ES256')) as KeyLike;
      const stale = await new SignJWT({ ...claims, auth_time: Math.floor(Date.now() / 1000) - 600 })
        .setProtectedHeader({ alg: 'ES256', kid: data.kid, typ: 'at+jwt' })
        .sign(key);
      const attempts: [string, string, unknown][] = [
        ['GET', url(`/sites/${site}/sek`), undefined],
        [
          'POST',
          `${intake.service.url}/admin/sites/${site}/integrations`,
          { name: 'late', requestUrl: 'https://203.0.113.9/x', sendCopies: true },
        ],
        ['POST', `${intake.service.url}/admin/sites/${site}/oauth-clients`, { name: 'late' }],
        [
          'PUT',
          `${emr.service.url}/admin/sites/${site}/emr`,
          { type: 'telus', baseUrl: 'https://203.0.113.9' },
        ],
        ['POST', url(`/admin/sites/${site}/admins`), { email: 'late@attack.test' }],
      ];
      for (const [method, target, body] of attempts) {
        const answer = await httpFrom('127.0.0.1', target, {
          method,
          headers: bearer(stale),
          ...(body ? { body } : {}),
        });
        expect([target, answer.status, answer.body['code']]).toEqual([target, 401, 'step-up-required']);
        expect(String(answer.headers['www-authenticate'])).toContain('insufficient_user_authentication');
      }
      // After a fresh sign-in (password and code) within the session, the SEK can be viewed.
      const reauth = await httpFrom('127.0.0.1', url('/auth/reauthenticate'), {
        method: 'POST',
        headers: bearer(stale),
        body: { password: PASSPHRASE, code: totp!.generate({ timestamp: Date.now() + 30000 }) },
      });
      expect(reauth.status).toBe(200);
      expect(
        (await httpFrom('127.0.0.1', url(`/sites/${site}/sek`), { headers: bearer(token(reauth)) })).status,
      ).toBe(200);
    });

    it('a common or breached password is refused when set, with the reason in English and French', async () => {
      for (const weak of ['Password12345!', 'iloveyou123456', 'qwertyuiop123']) {
        const answer = await httpFrom('127.0.0.1', url(`/operator/sites/${site}/users`), {
          method: 'POST',
          headers: { authorization: `Bearer ${TEST_OPERATOR_TOKEN}` },
          body: { email: who('weak'), password: weak },
        });
        expect(answer.status).toBe(400);
        expect(answer.body['code']).toBe('weak-password');
        expect(String(answer.body['detail'])).toMatch(/breached.*divulgués/s);
      }
      expect((await login(who('weak'))).status).toBe(401);
    });

    it('a TOTP code is accepted once: its replay (and an older code) is refused', async () => {
      const { email, totp } = await admin('replay', true);
      const code = totp!.generate();
      expect((await login(email, { code })).status).toBe(200);
      const replay = await login(email, { code });
      expect(replay.status).toBe(401);
      expect(replay.body['code']).toBe('invalid-code');
      const older = await login(email, { code: totp!.generate({ timestamp: Date.now() - 30000 }) });
      expect(older.status).toBe(401);
    });
  });

  describe('request bodies read only after authentication', () => {
    const EIGHT_MIB = 8 * 1024 * 1024;

    /**
     * Declares an 8 MiB body, sends only its first 64 KiB and waits for an answer without sending
     * the rest: a server that reads the body before checking credentials never answers (it waits
     * for the remaining bytes) and the call times out.
     */
    function answerBeforeBody(
      target: string,
      headers: Record<string, string>,
    ): Promise<{ status: number; body: string; sentBytes: number }> {
      return new Promise((resolve, reject) => {
        let sentBytes = 0;
        const req = request(target, {
          method: 'POST',
          localAddress: '127.0.0.9',
          headers: { 'content-length': String(EIGHT_MIB), ...headers },
        });
        const timer = setTimeout(() => req.destroy(new Error('no answer before the body was sent')), 10000);
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            clearTimeout(timer);
            req.destroy();
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), sentBytes });
          });
        });
        req.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        const first = Buffer.alloc(64 * 1024, 0x20);
        req.write(first, () => {
          sentBytes += first.length;
        });
      });
    }
    const serviceToken = (): Promise<string> =>
      new ServiceTokenIssuer('referral-intake', testServiceKeys('referral-intake')).tokenFor('vault');
    const phiBatch = (items: number, plaintextBytes: number): Record<string, unknown> => ({
      items: Array.from({ length: items }, (_, i) => ({
        recordId: `atk/body/${i}`,
        plaintext: randomBytes(plaintextBytes).toString('base64'),
      })),
    });

    it('an unauthenticated 8 MiB post is answered 401 before its body is sent (vault PHI, intake bundles, forms)', async () => {
      const phi = await answerBeforeBody(url(`/sites/${site}/phi/encrypt`), {
        'content-type': 'application/json',
      });
      expect(phi.status).toBe(401);
      expect(phi.sentBytes).toBeLessThan(EIGHT_MIB);
      expect(JSON.parse(phi.body)).toMatchObject({ status: 401, code: 'unauthorized' });
      // A forged (unverifiable) token is no better than none.
      const forged = await answerBeforeBody(url(`/sites/${site}/phi/encrypt`), {
        'content-type': 'application/json',
        authorization: `Bearer ${(await serviceToken()).slice(0, -4)}AAAA`,
      });
      expect(forged.status).toBe(401);
      const bundle = await answerBeforeBody(`${intake.service.url}/public/ocean/fhir_bundles`, {
        'content-type': 'application/fhir+json',
      });
      expect(bundle.status).toBe(401);
      expect(JSON.parse(bundle.body)).toMatchObject({ resourceType: 'OperationOutcome' });
      const form = await answerBeforeBody(`${intake.service.url}/fhir/QuestionnaireResponse`, {
        'content-type': 'application/fhir+json',
      });
      expect(form.status).toBe(401);
      expect(JSON.parse(form.body)).toMatchObject({ resourceType: 'OperationOutcome' });
    }, 60000);

    it('an authenticated caller gets 413 beyond the route limit, and ordinary sizes still work', async () => {
      const token = await serviceToken();
      // About 2.7 MB of JSON: within the PHI batch limit.
      const ordinary = await httpFrom('127.0.0.1', url(`/sites/${site}/phi/encrypt`), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: phiBatch(20, 100 * 1024),
      });
      expect(ordinary.status).toBe(200);
      expect((ordinary.body['items'] as unknown[]).length).toBe(20);
      // About 9.6 MB: beyond it.
      const oversize = await httpFrom('127.0.0.1', url(`/sites/${site}/phi/encrypt`), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: phiBatch(60, 120 * 1024),
      });
      expect(oversize.status).toBe(413);
      expect(oversize.body).toMatchObject({ status: 413 });
      // Admin JSON routes keep the small default (64 KiB): a site admin's 100 KB body is a 413.
      const admin = await httpFrom('127.0.0.1', `${intake.service.url}/admin/sites/${site}/integrations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await provisioned.adminToken()}` },
        body: { name: 'x'.repeat(100 * 1024) },
      });
      expect(admin.status).toBe(413);
    }, 60000);
  });

  describe('service identities', () => {
    const encrypt = async (token: string): Promise<HttpAnswer> =>
      httpFrom('127.0.0.1', url(`/sites/${site}/phi/encrypt`), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: {
          items: [{ recordId: 'atk/identity', plaintext: Buffer.from('x').toString('base64') }],
        },
      });
    const claims = (signed: SignJWT): SignJWT =>
      signed
        .setIssuer('cloud-connect/service')
        .setSubject('referral-intake')
        .setAudience('cloud-connect/vault')
        .setIssuedAt()
        .setExpirationTime('60s');

    it("a token for sub=referral-intake signed with the notifier's key is refused (403), and audited as the notifier", async () => {
      const notifierKey = createPrivateKey(testServiceKeys('notifier').SERVICE_SIGNING_KEY);
      const forged = await claims(
        new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', typ: 'svc+jwt', kid: 'notifier' }),
      ).sign(notifierKey);
      const answer = await encrypt(forged);
      expect(answer.status).toBe(403);
      expect(JSON.stringify(answer.body)).toContain(
        'service notifier may not present a token for another service',
      );
      // Under referral-intake's key id, the notifier's signature does not verify at all.
      const underIntakeKid = await claims(
        new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', typ: 'svc+jwt', kid: 'referral-intake' }),
      ).sign(notifierKey);
      expect((await encrypt(underIntakeKid)).status).toBe(401);
      // The genuine referral-intake token still works (same route, same body).
      const genuine = await new ServiceTokenIssuer(
        'referral-intake',
        testServiceKeys('referral-intake'),
      ).tokenFor('vault');
      expect((await encrypt(genuine)).status).toBe(200);
    });

    it('an HS256 token signed with the former shared secret is refused (401)', async () => {
      const legacy = await claims(new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'svc+jwt' })).sign(
        new TextEncoder().encode(TEST_SERVICE_AUTH_SECRET),
      );
      const answer = await encrypt(legacy);
      expect(answer.status).toBe(401);
      expect(JSON.stringify(answer.body)).toContain('shared-secret service tokens are no longer accepted');
    });
  });

  describe('database roles', () => {
    const asRole = async <T>(service: string, work: (client: Client) => Promise<T>): Promise<T> => {
      const roleUrl = env.serviceDatabaseUrls?.[service];
      if (!roleUrl)
        throw new Error(`the stack has no database role for ${service} (deploy/local/stack.sh up)`);
      const client = new Client({ connectionString: roleUrl });
      await client.connect();
      try {
        return await work(client);
      } finally {
        await client.end();
      }
    };
    const sqlState = (promise: Promise<unknown>): Promise<string> =>
      promise.then(
        () => 'succeeded',
        (error: unknown) => String((error as { code?: unknown }).code),
      );

    it("the services run as their own roles; the notifier's role cannot read referral-intake's tables", async () => {
      const runningAs = await db.query<{ usename: string }>(
        `SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name IN ('vault', 'referral-intake', 'emr-gateway')`,
      );
      expect(runningAs.rows.map((r) => r.usename).sort()).toEqual(
        expect.arrayContaining(['cc_emr_gateway', 'cc_referral_intake', 'cc_vault']),
      );
      await asRole('notifier', async (client) => {
        expect(await sqlState(client.query(`SELECT count(*) FROM "${intakeSchema}".completed_forms`))).toBe(
          '42501',
        );
        expect(await sqlState(client.query(`SELECT count(*) FROM "${vaultSchema}".audit_entries`))).toBe(
          '42501',
        );
        expect(await sqlState(client.query(`CREATE SCHEMA "${prefix}_notifier_own"`))).toBe('42501');
      });
      // Nor can referral-intake's role read the vault service's tables.
      await asRole('referral-intake', async (client) => {
        expect(await sqlState(client.query(`SELECT count(*) FROM "${vaultSchema}".audit_entries`))).toBe(
          '42501',
        );
        expect(await sqlState(client.query(`SELECT count(*) FROM "${intakeSchema}".completed_forms`))).toBe(
          'succeeded',
        );
      });
    });

    it('the vault role can append to and read the audit trail, never UPDATE, DELETE or TRUNCATE it', async () => {
      const before = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM "${vaultSchema}".audit_entries`,
      );
      expect(Number(before.rows[0]?.n)).toBeGreaterThan(0);
      await asRole('vault', async (client) => {
        expect(await sqlState(client.query(`SELECT count(*) FROM "${vaultSchema}".audit_entries`))).toBe(
          'succeeded',
        );
        expect(
          await sqlState(client.query(`UPDATE "${vaultSchema}".audit_entries SET actor = 'someone-else'`)),
        ).toBe('42501');
        expect(await sqlState(client.query(`DELETE FROM "${vaultSchema}".audit_entries`))).toBe('42501');
        expect(await sqlState(client.query(`TRUNCATE "${vaultSchema}".audit_entries`))).toBe('42501');
        expect(
          await sqlState(client.query(`ALTER TABLE "${vaultSchema}".audit_entries DISABLE TRIGGER USER`)),
        ).toBe('42501');
      });
      const after = await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${vaultSchema}".audit_entries`);
      expect(Number(after.rows[0]?.n)).toBeGreaterThanOrEqual(Number(before.rows[0]?.n));
    });
  });

  describe('Kafka producers', () => {
    const sasl = env.kafkaSasl;
    /** A client as the service's principal; `brokerErrors` collects the error codes brokers answer. */
    const asService = (service: string, brokerErrors?: string[]): Kafka => {
      const passwordFile = sasl?.passwordFiles[service];
      if (!sasl || !passwordFile)
        throw new Error('the stack has no SASL listener (deploy/local/stack.sh up)');
      return new Kafka({
        clientId: `atk-${service}`,
        brokers: [sasl.brokers],
        sasl: {
          mechanism: 'scram-sha-512',
          username: `cc-${service}`,
          password: readFileSync(passwordFile, 'utf8').trim(),
        },
        retry: { retries: 1 },
        // kafkajs reports some refusals (a coordinator lookup) only in its debug log.
        ...(brokerErrors
          ? {
              logLevel: logLevel.DEBUG,
              logCreator: () => (entry: LogEntry) => {
                const type = (entry.log['error'] as { type?: unknown } | undefined)?.type;
                if (typeof type === 'string') brokerErrors.push(type);
              },
            }
          : { logLevel: logLevel.NOTHING }),
      });
    };
    const registry = new EventRegistry(PRODUCT_EVENTS);
    const planted = (outcome: string) =>
      auditEvent(registry, site, {
        actor: 'service:notifier',
        action: 'atk.planted',
        target: `site/${site}/atk/${outcome}`,
      });
    const sendAs = async (
      service: string,
      topic: string,
      envelope: Envelope,
      headers: Record<string, string>,
    ) => {
      const producer = asService(service).producer();
      await producer.connect();
      try {
        await producer.send({
          topic,
          acks: -1,
          messages: [{ key: site, value: JSON.stringify(envelope), headers }],
        });
        return 'written';
      } catch (error) {
        return (error as { type?: string }).type ?? (error as Error).message;
      } finally {
        await producer.disconnect();
      }
    };
    // kafkajs reports the broker's refusal by its code or its message, depending on the request.
    const REFUSED = /TOPIC_AUTHORIZATION_FAILED|Topic authorization failed/;
    const auditIdOf = (envelope: Envelope): string => (envelope.payload as { auditId: string }).auditId;

    it('the broker refuses an event from a service principal not allowed to write the topic (ACL)', async () => {
      const envelope = planted('by-notifier');
      expect(await sendAs('notifier', 'audit.recorded', envelope, { 'cc-producer': 'notifier' })).toMatch(
        REFUSED,
      );
      expect(await sendAs('notifier', 'site.registered', envelope, { 'cc-producer': 'vault' })).toMatch(
        REFUSED,
      );
      // The scheduler may write notification.requested, not site.registered.
      expect(await sendAs('scheduler', 'site.registered', envelope, { 'cc-producer': 'vault' })).toMatch(
        REFUSED,
      );
    });

    it("a service's principal cannot fence another service's outbox relay or read its checkpoint (ACL)", async () => {
      const gatewayRelay = `emr-gateway.outbox-relay.${uniqueName('atk')}`;
      // Taking a transactional id fences (aborts) the relay holding it; the broker checks WRITE on it.
      const takeTransactionalId = async (service: string, transactionalId: string): Promise<string> => {
        const brokerErrors: string[] = [];
        const producer = asService(service, brokerErrors).producer({
          transactionalId,
          idempotent: true,
          maxInFlightRequests: 1,
        });
        try {
          await producer.connect();
          // The transactional id is claimed (and its holder fenced) when the first transaction opens.
          await (await producer.transaction()).abort();
          return 'taken';
        } catch (error) {
          return [(error as Error).message, ...brokerErrors].join(' / ');
        } finally {
          await producer.disconnect().catch(() => undefined);
        }
      };
      const readCheckpoint = async (service: string, groupId: string): Promise<string> => {
        const brokerErrors: string[] = [];
        const admin = asService(service, brokerErrors).admin();
        await admin.connect();
        try {
          await admin.fetchOffsets({ groupId, topics: [OUTBOX_CHECKPOINT_TOPIC] });
          return 'read';
        } catch (error) {
          return [(error as Error).message, ...brokerErrors].join(' / ');
        } finally {
          await admin.disconnect();
        }
      };
      // Its own relay's ids are the gateway's to use...
      expect(await takeTransactionalId('emr-gateway', gatewayRelay)).toBe('taken');
      expect(await readCheckpoint('emr-gateway', gatewayRelay)).toBe('read');
      // ...and no other principal's, nor the unscoped names relays had before.
      expect(await takeTransactionalId('notifier', gatewayRelay)).toMatch(
        /TRANSACTIONAL_ID_AUTHORIZATION_FAILED|Transactional Id authorization failed/i,
      );
      expect(await takeTransactionalId('notifier', `outbox-relay.${uniqueName('atk')}`)).toMatch(
        /TRANSACTIONAL_ID_AUTHORIZATION_FAILED|Transactional Id authorization failed/i,
      );
      expect(await readCheckpoint('notifier', gatewayRelay)).toMatch(
        /GROUP_AUTHORIZATION_FAILED|Group authorization failed/i,
      );
    });

    it('an event planted with a forged or missing producer header is dead-lettered by the consumer, not recorded', async () => {
      const forged = planted('forged-header');
      const unnamed = planted('no-header');
      const genuine = planted('genuine');
      // cc-vault may write audit.recorded; the events name a producer the catalogue does not allow.
      expect(await sendAs('vault', 'audit.recorded', forged, { 'cc-producer': 'notifier' })).toBe('written');
      expect(await sendAs('vault', 'audit.recorded', unnamed, {})).toBe('written');
      expect(await sendAs('vault', 'audit.recorded', genuine, { 'cc-producer': 'vault' })).toBe('written');
      const recorded = async (envelope: Envelope) =>
        (
          await db.query(`SELECT 1 FROM "${vaultSchema}".audit_entries WHERE audit_id = $1`, [
            auditIdOf(envelope),
          ])
        ).rowCount === 1;
      await waitFor('the genuine event to be recorded', () => recorded(genuine), {
        timeoutMs: 60000,
        intervalMs: 500,
      });
      const dead = new Set<string>();
      const consumer = new Kafka({
        clientId: 'atk-dlq',
        brokers: env.KAFKA_BROKERS.split(','),
        logLevel: logLevel.NOTHING,
      }).consumer({ groupId: uniqueName('atk-dlq') });
      await consumer.connect();
      await consumer.subscribe({ topic: 'audit.recorded.dlq', fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message }) => {
          const value = message.value?.toString() ?? '';
          for (const envelope of [forged, unnamed]) if (value.includes(envelope.id)) dead.add(envelope.id);
          return Promise.resolve();
        },
      });
      try {
        await waitFor('both planted events in audit.recorded.dlq', () => dead.size === 2, {
          timeoutMs: 60000,
          intervalMs: 500,
        });
      } finally {
        await consumer.disconnect();
      }
      expect(await recorded(forged)).toBe(false);
      expect(await recorded(unnamed)).toBe(false);
    });
  });

  describe('leaks', () => {
    it('no secret, key or test PHI value of this suite appears in any captured service log', () => {
      expect(phiValues.length).toBeGreaterThanOrEqual(5);
      expect(leakedInLogs([...secrets, ...phiValues])).toEqual([]);
    });
  });
});
