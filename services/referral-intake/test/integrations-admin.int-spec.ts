/* eslint-disable @typescript-eslint/no-unsafe-return -- the test walks JSON answers */
// The site admins' integrations API: a real admin signed in through the real vault service, the
// intake service checking its token through the vault JWKS; every change audited.
import {
  createUser,
  freePort,
  provisionSiteSek,
  ServiceProcess,
  serviceEnvFor,
  signIn,
  stackEnv,
  uniqueName,
  TestCli,
} from '@cloud-connect/testing';
import { Client } from 'pg';
import { addServiceRequestWithQuirks } from '@cloud-connect/testing';
import type { Json } from './support';

const env = stackEnv();
const intakeSchema = uniqueName('intake_admin');
const vaultSchema = uniqueName('vault_admin');
const SITE = '5101';
const OTHER_SITE = '5102';
/** A site number no suite has given an SEK (Vault's KV is shared by every suite on the stack). */
const SEKLESS = String(800000000 + Math.floor(Math.random() * 99999999));
let testCli: TestCli;
async function cli(args: string[]): Promise<void> {
  const result = await testCli.run(args);
  if (result.code !== 0) throw new Error(result.stderr);
}

describe('integrations admin API (real vault sign-in, real intake)', () => {
  let vault: ServiceProcess;
  let intake: ServiceProcess;
  let db: Client;
  let token: string;

  beforeAll(async () => {
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    vault = new ServiceProcess(
      'vault',
      await freePort(),
      serviceEnvFor('vault', env, { DATABASE_SCHEMA: vaultSchema }),
    ).start();
    await vault.waitReady(90000);
    testCli = new TestCli(vault.url);
    intake = new ServiceProcess(
      'referral-intake',
      await freePort(),
      serviceEnvFor('referral-intake', env, {
        DATABASE_SCHEMA: intakeSchema,
        ADMIN_JWKS_URL: `${vault.url}/.well-known/jwks.json`,
        VAULT_SERVICE_URL: vault.url,
      }),
    ).start();
    await intake.waitReady(90000);
    for (const site of [SITE, OTHER_SITE, SEKLESS]) {
      await cli([
        'site',
        'create',
        '--number',
        site,
        '--name',
        `Clinic ${site}`,
        '--admin-email',
        `creator-${site}@clinic.ca`,
      ]);
    }
    await createUser({
      vaultUrl: vault.url,
      email: 'admin@clinic.ca',
      password: 'correct horse battery staple 42',
      siteNumber: SITE,
    });
    token = await signIn(vault.url, 'admin@clinic.ca', 'correct horse battery staple 42');
    await provisionSiteSek({ vaultUrl: vault.url, site: SITE });
  }, 180000);

  afterAll(async () => {
    await Promise.all([intake?.stop(), vault?.stop()]);
    await db.query(`DROP SCHEMA IF EXISTS "${intakeSchema}" CASCADE`);
    await db.query(`DROP SCHEMA IF EXISTS "${vaultSchema}" CASCADE`);
    await db.end();
  });

  async function admin(method: string, path: string, body?: unknown, bearer: string | null = token) {
    const response = await fetch(`${intake.url}/admin/sites/${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: (text ? JSON.parse(text) : {}) as Json, text };
  }

  const postBundle = async (key: string) =>
    (
      await fetch(`${intake.url}/public/ocean/fhir_bundles`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', 'referral-integration-api-key': key },
        body: JSON.stringify(addServiceRequestWithQuirks()),
      })
    ).status;

  it('refuses callers without a token (401) and admins of another site (403)', async () => {
    expect((await admin('GET', `${SITE}/integrations`, undefined, null)).status).toBe(401);
    expect((await admin('GET', `${OTHER_SITE}/integrations`)).status).toBe(403);
  });

  it('creates (key shown once), lists without keys, rotates with overlap, disables; all audited', async () => {
    const created = await admin('POST', `${SITE}/integrations`, { name: 'CHR Integration' });
    expect(created.status).toBe(201);
    const { id } = created.json['integration'];
    const firstKey = created.json['apiKey'] as string;
    expect(firstKey).toMatch(/^ccik_/);
    expect(created.json['integration'].authHeaderName).toBe('Referral-Integration-API-Key');

    const listed = await admin('GET', `${SITE}/integrations`);
    expect(listed.json['integrations']).toHaveLength(1);
    expect(listed.text).not.toContain(firstKey);
    const { rows } = await db.query(`SELECT key_hash FROM "${intakeSchema}".integration_keys`);
    expect(JSON.stringify(rows)).not.toContain(firstKey);

    expect(await postBundle(firstKey)).toBe(200);
    const rotated = await admin('POST', `${SITE}/integrations/${id}/rotate-key`, { overlapSeconds: 3600 });
    expect(rotated.status).toBe(200);
    const secondKey = rotated.json['apiKey'] as string;
    expect(await postBundle(secondKey)).toBe(200);
    expect(await postBundle(firstKey)).toBe(200); // still inside the overlap window
    const third = await admin('POST', `${SITE}/integrations/${id}/rotate-key`, { overlapSeconds: 0 });
    expect(await postBundle(third.json['apiKey'] as string)).toBe(200);
    expect(await postBundle(firstKey)).toBe(401);
    expect(await postBundle(secondKey)).toBe(401);

    const weak = await admin('POST', `${SITE}/integrations`, {
      name: 'Weak',
      key: 'password1234password1234',
    });
    expect(weak.status).toBe(400);
    expect(weak.json['type']).toBe('urn:cloud-connect:problem:integrations:invalid-integration');
    const fields = weak.json['errors'] as { field: string; detail: string }[];
    expect(fields.map((e) => `${e.field}: ${e.detail}`).join()).toMatch(/key/);
    const supplied = await admin('POST', `${SITE}/integrations`, {
      name: 'CHR pasted',
      key: 'Zx81-kq0PbW2v9LmTe4RyU7n-admin',
    });
    expect(supplied.status).toBe(201);
    expect(supplied.json['apiKey']).toBeUndefined();
    expect((await admin('POST', `${SITE}/integrations`, { name: 'CHR pasted' })).status).toBe(409);

    const disabled = await admin('POST', `${SITE}/integrations/${id}/disable`);
    expect(disabled.json['integration'].enabled).toBe(false);
    expect(await postBundle(third.json['apiKey'] as string)).toBe(403);

    const audit = await db.query(
      `SELECT envelope->'payload'->>'action' AS action, envelope->'payload'->>'actor' AS actor FROM "${intakeSchema}".outbox WHERE topic = 'audit.recorded' ORDER BY id`,
    );
    expect(audit.rows.map((r: Json) => r.action)).toEqual([
      'integration.create',
      'integration.rotate-key',
      'integration.rotate-key',
      'integration.create',
      'integration.disable',
    ]);
    expect(audit.rows.every((r: Json) => String(r.actor).startsWith('user:'))).toBe(true);
  });

  it('says why an integration with an outbound key cannot be saved before the site has an SEK; saves it once one exists', async () => {
    await createUser({
      vaultUrl: vault.url,
      email: `admin-${SEKLESS}@clinic.ca`,
      password: 'correct horse battery staple 42',
      siteNumber: SEKLESS,
    });
    const bearer = await signIn(vault.url, `admin-${SEKLESS}@clinic.ca`, 'correct horse battery staple 42');
    const withCopies = {
      name: 'Copies',
      requestUrl: 'https://receiver.example/fhir',
      outboundKey: 'outbound-key-for-the-receiver-0123456789',
      sendCopies: true,
    };
    const refused = await admin('POST', `${SEKLESS}/integrations`, withCopies, bearer);
    expect(refused.status).toBe(409);
    expect(refused.json['code']).toBe('sek-required');
    expect(refused.json['detail']).toContain('has not stored its encryption key (SEK) yet');
    expect(refused.json['detail']).toContain('Nothing was saved');
    expect(refused.text).not.toContain(withCopies.outboundKey);
    const none = await db.query(
      `SELECT count(*)::int AS n FROM "${intakeSchema}".integrations WHERE site_number = $1`,
      [SEKLESS],
    );
    expect(none.rows[0].n).toBe(0);
    // Without an outbound key nothing needs the SEK.
    expect((await admin('POST', `${SEKLESS}/integrations`, { name: 'Sender' }, bearer)).status).toBe(201);
    await provisionSiteSek({
      vaultUrl: vault.url,
      site: SEKLESS,
    });
    const saved = await admin('POST', `${SEKLESS}/integrations`, withCopies, bearer);
    expect(saved.status).toBe(201);
    const stored = await db.query(
      `SELECT outbound_key_ciphertext FROM "${intakeSchema}".integrations WHERE id = $1`,
      [saved.json['integration'].id],
    );
    expect(
      (stored.rows[0].outbound_key_ciphertext as Buffer).includes(Buffer.from(withCopies.outboundKey)),
    ).toBe(false);
  });
});
