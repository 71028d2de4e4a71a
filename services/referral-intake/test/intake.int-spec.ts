/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- the test walks FHIR JSON answers */
// referral-intake as a real process on the real stack: inbound eReferrals (accepted, idempotent,
// encrypted, published through the outbox), the bad-input corpus, Kafka down, SIGKILL after 2xx,
// and outbound copies with retries, dead letters and replay. Integrations are made with the CLI.
// Bundles are encrypted by the real vault service under each site's SEK.
import { ServiceTokenIssuer } from '@cloud-connect/auth';
import { VaultPhiCipher } from '@cloud-connect/phi-client';
import {
  freePort,
  provisionSiteSek,
  readTopic,
  ServiceProcess,
  serviceEnvFor,
  stackCtl,
  stackEnv,
  testServiceKeys,
  uniqueName,
  waitFor,
  registerSite,
  TestCli,
} from '@cloud-connect/testing';
import { createKafka } from '@cloud-connect/kafka';
import { createServer, type Server } from 'node:http';
import { Client } from 'pg';
import { FIXTURES, addServiceRequestWithQuirks } from '@cloud-connect/testing';
import { INTAKE_ISSUE_SYSTEM } from '../src/fhir-messages/validation-issue';
import { ACCEPTED_SENDER_BUNDLES, REJECTED_SENDER_BUNDLES, senderBundle } from './fixtures/senders';
import type { Json } from './support';

const env = stackEnv();
const schema = uniqueName('intake_it');
const vaultSchema = uniqueName('intake_it_vault');
const SITE = '4101';
const OTHER_SITE = '4102';
const COPY_SITE = '4103';
const MAX_BODY = 300000;
/** A site number no suite has given an SEK (Vault's KV is shared by every suite on the stack). */
const SEKLESS = String(810000000 + Math.floor(Math.random() * 9999999));
let vaultUrl = '';

let testCli: TestCli;
const cli = (args: string[]) => testCli.run(args);

async function createIntegration(args: string[]): Promise<{ id: string; apiKey?: string }> {
  const result = await cli(['integration', 'create', ...args]);
  if (result.code !== 0) throw new Error(`integration create failed: ${result.stderr}`);
  return { id: result.json['integration'].id as string, apiKey: result.json['apiKey'] as string | undefined };
}

describe('referral-intake (real Postgres, Kafka, HTTP)', () => {
  let vault: ServiceProcess;
  let service: ServiceProcess;
  let db: Client;
  let key: string;
  let otherKey: string;
  let disabledKey: string;
  let limitedKey: string;
  /** Starts intake; by default waits until it is ready in full (its consumers joined too). */
  const start = async (wait: 'ready' | 'none' = 'ready'): Promise<void> => {
    service = new ServiceProcess(
      'referral-intake',
      service?.port ?? (await freePort()),
      serviceEnvFor('referral-intake', env, {
        DATABASE_SCHEMA: schema,
        VAULT_SERVICE_URL: vault.url,
        ADMIN_JWKS_URL: `${vault.url}/.well-known/jwks.json`,
        INTAKE_MAX_BODY_BYTES: String(MAX_BODY),
        COPY_MAX_ATTEMPTS: '3',
        COPY_BACKOFF_BASE_MS: '200',
        COPY_BACKOFF_MAX_MS: '800',
        COPY_POLL_MS: '100',
        COPY_TIMEOUT_MS: '3000',
      }),
    ).start();
    if (wait === 'ready') await service.waitReady(90000);
    testCli.env['REFERRAL_INTAKE_URL'] = service.url;
  };

  async function post(
    body: unknown,
    headers: Record<string, string> = {},
    path = '/public/ocean/fhir_bundles',
  ) {
    const response = await fetch(`${service.url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json', 'Referral-Integration-API-Key': key, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, text, json: JSON.parse(text) as Json, headers: response.headers };
  }

  async function count(sql: string, params: unknown[] = []): Promise<number> {
    const { rows } = await db.query<{ n: string }>(sql.replaceAll('$schema', `"${schema}"`), params);
    return Number(rows[0]?.n ?? 0);
  }
  const referrals = (site = SITE) =>
    count(`SELECT count(*) AS n FROM $schema.referrals WHERE site_number = $1`, [site]);
  const outboxRows = () =>
    count(`SELECT count(*) AS n FROM $schema.outbox WHERE topic = 'referral.received'`);
  const pendingOutbox = () => count(`SELECT count(*) AS n FROM $schema.outbox WHERE published_at IS NULL`);

  beforeAll(async () => {
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    vault = new ServiceProcess(
      'vault',
      await freePort(),
      serviceEnvFor('vault', env, { DATABASE_SCHEMA: vaultSchema }),
    ).start();
    await vault.waitReady(90000);
    vaultUrl = vault.url;
    testCli = new TestCli(vault.url);
    for (const site of [SITE, OTHER_SITE, COPY_SITE]) await provisionSiteSek({ vaultUrl, site });
    await start();
    key = (await createIntegration(['--site', SITE, '--name', 'CHR'])).apiKey!;
    otherKey = 'Zx81-kq0PbW2v9LmTe4RyU7n-other-site';
    await createIntegration(['--site', OTHER_SITE, '--name', 'CHR', '--key', otherKey]);
    const disabled = await createIntegration(['--site', SITE, '--name', 'Old EMR']);
    disabledKey = disabled.apiKey!;
    expect((await cli(['integration', 'disable', '--site', SITE, '--id', disabled.id])).code).toBe(0);
    limitedKey = (await createIntegration(['--site', SITE, '--name', 'Slow sender', '--rate-limit', '1']))
      .apiKey!;
  }, 240000);

  afterAll(async () => {
    await service?.stop();
    await vault?.stop();
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.query(`DROP SCHEMA IF EXISTS "${vaultSchema}" CASCADE`);
    await db.end();
  });

  it('accepts each fixture once, answers a FHIR response message, stores it encrypted, and replays the original answer', async () => {
    const before = await referrals();
    const paths = ['/public/ocean/fhir_bundles', '/fhir/$process-message', '/fhir/$process-messages'];
    let i = 0;
    for (const [name, make] of Object.entries(FIXTURES)) {
      const bundle: Json = make();
      const first = await post(bundle, {}, paths[i++ % paths.length]);
      expect({ name, status: first.status }).toEqual({ name, status: 200 });
      const header = first.json['entry'][0].resource;
      expect(header.response).toEqual(
        expect.objectContaining({ identifier: bundle['entry'][0].resource.id, code: 'ok' }),
      );
      const again = await post(bundle);
      expect(again.status).toBe(200);
      expect(again.text).toBe(first.text);
    }
    expect(await referrals()).toBe(before + Object.keys(FIXTURES).length);
    const { rows } = await db.query(`SELECT bundle_ciphertext FROM "${schema}".referrals`);
    for (const row of rows as { bundle_ciphertext: Buffer }[]) {
      expect(row.bundle_ciphertext.includes(Buffer.from('Tremblay'))).toBe(false);
      expect(row.bundle_ciphertext.includes(Buffer.from('9876543217'))).toBe(false);
    }
  });

  describe("real senders' bundles (test/fixtures/senders)", () => {
    const storedUnder = (bundleId: string) =>
      count(`SELECT count(*) AS n FROM $schema.referrals WHERE site_number = $1 AND bundle_id = $2`, [
        SITE,
        bundleId,
      ]);

    it.each(ACCEPTED_SENDER_BUNDLES)(
      'accepts $file, stores it once, and names each quirk in its answer',
      async ({ file, quirks }) => {
        const bundle = senderBundle(file);
        const first = await post(bundle);
        expect(first.status).toBe(200);
        const answer = first.json['entry'] as Json[];
        expect(answer[0]?.['resource'].response.code).toBe('ok');
        const outcome = answer.find((e) => e['resource'].resourceType === 'OperationOutcome')?.[
          'resource'
        ] as Json;
        const named = (outcome['issue'] as Json[]).map((i) => ({
          code: i['details']?.coding?.[0]?.code as string,
          system: i['details']?.coding?.[0]?.system as string,
          hasExpression: Array.isArray(i['expression']) && i['expression'].length === 1,
        }));
        for (const quirk of quirks) {
          expect(named).toContainEqual({ code: quirk, system: INTAKE_ISSUE_SYSTEM, hasExpression: true });
        }
        expect((await post(bundle)).text).toBe(first.text);
        expect(await storedUnder(String(bundle['id']))).toBe(1);
      },
    );

    it.each(REJECTED_SENDER_BUNDLES)(
      'refuses $file with 400 at $expression, storing nothing',
      async ({ file, expression }) => {
        const bundle = senderBundle(file);
        const answer = await post(bundle);
        expect(answer.status).toBe(400);
        expect(answer.json['resourceType']).toBe('OperationOutcome');
        expect(
          (answer.json['issue'] as Json[])
            .filter((i) => i['severity'] === 'error')
            .map((i) => i['expression'][0]),
        ).toContain(expression);
        expect(await storedUnder(String(bundle['id']))).toBe(0);
      },
    );
  });

  it('the bundle at rest opens only through the vault service, for its own site and record', async () => {
    const bundle: Json = addServiceRequestWithQuirks();
    expect((await post(bundle)).status).toBe(200);
    const { rows } = await db.query(
      `SELECT id, bundle_ciphertext FROM "${schema}".referrals WHERE site_number = $1 AND bundle_id = $2`,
      [SITE, bundle['id']],
    );
    const row = rows[0] as { id: string; bundle_ciphertext: Buffer };
    const cipher = new VaultPhiCipher({
      baseUrl: vault.url,
      tokens: new ServiceTokenIssuer('referral-intake', testServiceKeys('referral-intake')),
    });
    const opened = JSON.parse((await cipher.decrypt(SITE, row.id, row.bundle_ciphertext)).toString()) as Json;
    expect(opened['id']).toBe(bundle['id']);
    for (const [site, record] of [
      [OTHER_SITE, row.id],
      [SITE, '00000000-0000-4000-8000-000000000000'],
    ] as const) {
      const refused = await cipher.decrypt(site, record, row.bundle_ciphertext).catch((e: unknown) => e);
      expect(refused).toMatchObject({ status: 422, retryable: false });
    }
  });

  it('refuses a bundle for a site without an SEK: 503 + Retry-After saying why, nothing stored', async () => {
    // The site exists (its admin registers the integration) but has never stored an SEK.
    await registerSite(vaultUrl, { siteNumber: SEKLESS });
    const sekKey = (await createIntegration(['--site', SEKLESS, '--name', 'CHR'])).apiKey!;
    const outboxBefore = await outboxRows();
    const answer = await post(addServiceRequestWithQuirks(), { 'Referral-Integration-API-Key': sekKey });
    expect(answer.status).toBe(503);
    expect(answer.json['resourceType']).toBe('OperationOutcome');
    expect(answer.json['issue'][0].diagnostics).toContain(
      `the receiving site (${SEKLESS}) has not stored its encryption key (SEK) yet`,
    );
    expect(answer.json['issue'][0].diagnostics).toContain('nothing was stored');
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(60);
    expect(await referrals(SEKLESS)).toBe(0);
    expect(await outboxRows()).toBe(outboxBefore);
  });

  it('with the vault service unreachable: a site needing a new data key gets 503 + Retry-After, nothing stored; one with a cached key is still accepted; all accepted again after', async () => {
    // A site with an SEK that has never posted here: intake holds no data key for it yet.
    const fresh = String(820000000 + Math.floor(Math.random() * 9999999));
    await provisionSiteSek({ vaultUrl, site: fresh });
    const freshKey = (await createIntegration(['--site', fresh, '--name', 'CHR'])).apiKey!;
    expect((await post(addServiceRequestWithQuirks())).status).toBe(200);
    const port = vault.port;
    await vault.stop();
    try {
      const outboxBefore = await outboxRows();
      const answer = await post(addServiceRequestWithQuirks(), { 'Referral-Integration-API-Key': freshKey });
      expect(answer.status).toBe(503);
      expect(answer.json['resourceType']).toBe('OperationOutcome');
      expect(answer.json['issue'][0].diagnostics).toContain('encryption service is unavailable');
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await referrals(fresh)).toBe(0);
      expect(await outboxRows()).toBe(outboxBefore);
      // SITE's data key is cached (within its age and record limits): encryption is local.
      expect((await post(addServiceRequestWithQuirks())).status).toBe(200);
    } finally {
      vault = new ServiceProcess(
        'vault',
        port,
        serviceEnvFor('vault', env, { DATABASE_SCHEMA: vaultSchema }),
      ).start();
      await vault.waitReady(90000);
    }
    const after = await post(addServiceRequestWithQuirks(), { 'Referral-Integration-API-Key': freshKey });
    expect(after.status).toBe(200);
    expect(await referrals(fresh)).toBe(1);
  }, 180000);

  it('recognises a message echoed back in a new Bundle (same MessageHeader, same content) and applies nothing', async () => {
    const bundle: Json = addServiceRequestWithQuirks();
    const first = await post(bundle);
    const before = await referrals();
    const echoed = await post({ ...bundle, id: 'echo-of-a-message', timestamp: '2026-11-22T00:00:00Z' });
    expect(echoed.status).toBe(200);
    expect(echoed.text).toBe(first.text);
    expect(await referrals()).toBe(before);
  });

  it('recognises a copy that comes back re-wrapped under a new MessageHeader (same ServiceRequest identifier) as a duplicate: answered, not stored, nothing published', async () => {
    const echoKey = (await createIntegration(['--site', SITE, '--name', 'EMR re-sending copies'])).apiKey!;
    const bundle: Json = addServiceRequestWithQuirks();
    expect((await post(bundle)).status).toBe(200);
    const [storedBefore, publishedBefore] = [await referrals(), await outboxRows()];
    const rewrapped = (n: number): Json => {
      const copy = JSON.parse(JSON.stringify(bundle)) as Json;
      copy['id'] = `rewrapped-${n}-${String(bundle['id'])}`;
      copy['entry'][0].resource.id = `header-${n}-${String(bundle['id'])}`;
      copy['entry'][0].resource.source = { name: 'EMR', endpoint: 'https://emr.example.ca/fhir' };
      return copy;
    };
    // Concurrent echoes too: each answered, none stored.
    const answers = await Promise.all(
      [1, 2, 3, 4].map((n) => post(rewrapped(n), { 'Referral-Integration-API-Key': echoKey })),
    );
    for (const [i, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      const entries = answer.json['entry'] as Json[];
      expect(entries[0]?.['resource'].response.identifier).toBe(`header-${i + 1}-${String(bundle['id'])}`);
      const issue = entries[1]?.['resource'].issue[0] as Json;
      expect(issue['details'].coding[0]).toEqual({ system: INTAKE_ISSUE_SYSTEM, code: 'echoed-referral' });
      expect(issue['diagnostics']).toContain(`Bundle/${String(bundle['id'])}`);
    }
    expect(await referrals()).toBe(storedBefore);
    expect(await outboxRows()).toBe(publishedBefore);
  });

  it('32 concurrent resends of one bundle store it exactly once, publish it once, and all get the same answer', async () => {
    const bundle: Json = addServiceRequestWithQuirks();
    const answers = await Promise.all(Array.from({ length: 32 }, () => post(bundle)));
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 32 }, () => 200));
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(
      await count(`SELECT count(*) AS n FROM $schema.referrals WHERE site_number = $1 AND bundle_id = $2`, [
        SITE,
        bundle['id'],
      ]),
    ).toBe(1);
    expect(
      await count(
        `SELECT count(*) AS n FROM $schema.outbox WHERE topic = 'referral.received' AND envelope->'payload'->>'bundleId' = $1`,
        [bundle['id']],
      ),
    ).toBe(1);
  });

  describe('the bad-input corpus: each rejected with its code, nothing stored', () => {
    let before: { referrals: number; outbox: number };
    beforeAll(async () => {
      before = { referrals: await referrals(), outbox: await outboxRows() };
    });
    afterAll(async () => {
      expect(await referrals()).toBe(before.referrals);
      expect(await referrals(OTHER_SITE)).toBe(0);
      expect(await outboxRows()).toBe(before.outbox);
    });

    const mutate = (change: (b: Json) => void): Json => {
      const b = addServiceRequestWithQuirks();
      change(b);
      return b;
    };

    it.each<[string, () => unknown, number, string | null]>([
      ['malformed JSON', () => '{"resourceType":"Bundle",', 400, 'Bundle'],
      ['JSON that is not a Bundle', () => ({ resourceType: 'Patient', id: 'x' }), 400, 'Bundle'],
      ['a transaction Bundle', () => mutate((b) => (b['type'] = 'transaction')), 400, 'Bundle.type'],
      ['no MessageHeader', () => mutate((b) => b['entry'].shift()), 400, 'Bundle.entry[0].resource'],
      [
        'MessageHeader not first',
        () => mutate((b) => b['entry'].push(b['entry'].shift())),
        400,
        'Bundle.entry[3].resource',
      ],
      [
        'a dangling reference',
        () => mutate((b) => (b['entry'][1].resource.subject = { reference: 'Patient/nope' })),
        400,
        'Bundle.entry[1].resource.subject.reference',
      ],
      [
        'an unknown event code',
        () => mutate((b) => (b['entry'][0].resource.eventCoding.code = 'order-pizza')),
        400,
        'Bundle.entry[0].resource.eventCoding.code',
      ],
      [
        'deep nesting',
        () => `{"resourceType":"Bundle","x":${'['.repeat(5000)}${']'.repeat(5000)}}`,
        400,
        null,
      ],
      [
        'a huge array',
        () =>
          mutate((b) => (b['entry'][1].resource.note = Array.from({ length: 6000 }, () => ({ text: 'x' })))),
        400,
        'Bundle.entry[1].resource.note',
      ],
      [
        'a body over the limit',
        () => mutate((b) => (b['entry'][1].resource.reasonCode = [{ text: 'x'.repeat(MAX_BODY) }])),
        413,
        null,
      ],
    ])('%s', async (_name, make, status, expression) => {
      const answer = await post(make());
      expect(answer.status).toBe(status);
      expect(answer.json['resourceType']).toBe('OperationOutcome');
      if (expression) expect(answer.json['issue'].map((i: Json) => i.expression?.[0])).toContain(expression);
    });

    it('a wrong content type: 415', async () => {
      const answer = await post(addServiceRequestWithQuirks(), { 'Content-Type': 'application/xml' });
      expect(answer.status).toBe(415);
    });

    it('a missing or unknown key: 401 with the same body; a disabled integration: 403', async () => {
      const missing = await fetch(`${service.url}/public/ocean/fhir_bundles`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/fhir+json' },
        body: JSON.stringify(addServiceRequestWithQuirks()),
      });
      const unknown = await post(addServiceRequestWithQuirks(), {
        'Referral-Integration-API-Key': 'not-a-key-of-anyone-1234567890',
      });
      expect(missing.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(await missing.text()).toBe(unknown.text);
      expect(
        (await post(addServiceRequestWithQuirks(), { 'Referral-Integration-API-Key': disabledKey })).status,
      ).toBe(403);
    });

    it('a replay with a changed body under the same id: 409', async () => {
      const bundle: Json = addServiceRequestWithQuirks();
      // Stored once, outside the counted corpus.
      before.referrals += 1;
      before.outbox += 1;
      expect((await post(bundle)).status).toBe(200);
      bundle['entry'][1].resource.priority = 'urgent';
      const changed = await post(bundle);
      expect(changed.status).toBe(409);
      expect(changed.json['issue'][0].code).toBe('duplicate');
    });

    it('a key of another site only ever reaches that site: its post of an id known here is not answered from here', async () => {
      const bundle: Json = addServiceRequestWithQuirks();
      before.referrals += 1;
      before.outbox += 1;
      expect((await post(bundle)).status).toBe(200);
      bundle['entry'][1].resource.subject = { reference: 'Patient/not-here' };
      const other = await post(bundle, { 'Referral-Integration-API-Key': otherKey });
      expect(other.status).toBe(400);
    });

    it('over the integration rate limit: 429 with Retry-After', async () => {
      const answers = [];
      for (let i = 0; i < 3; i += 1)
        answers.push(await post('{}', { 'Referral-Integration-API-Key': limitedKey }));
      const limited = answers.find((a) => a.status === 429);
      expect(limited).toBeDefined();
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    });
  });

  it('accepts while Kafka is down (the outbox holds the events) and publishes them once it is back', async () => {
    const kafka = createKafka({ brokers: env.KAFKA_BROKERS.split(','), clientId: 'intake-it' });
    const ids: string[] = [];
    await stackCtl('stop', 'kafka');
    try {
      for (let i = 0; i < 3; i += 1) {
        const answer = await post(addServiceRequestWithQuirks());
        expect(answer.status).toBe(200);
        ids.push(answer.json['entry'][0].resource.response.identifier as string);
      }
      expect(await pendingOutbox()).toBeGreaterThanOrEqual(3);
    } finally {
      await stackCtl('start', 'kafka');
    }
    await waitFor('outbox drained after Kafka came back', async () => (await pendingOutbox()) === 0, {
      timeoutMs: 90000,
    });
    const messages = await readTopic(kafka, 'referral.received', {
      expected: 1,
      timeoutMs: 30000,
      settleMs: 2000,
    });
    const published = messages
      .map((m) => JSON.parse(m.value).payload.messageHeaderId as string)
      .filter((id) => ids.includes(id));
    expect(published.sort()).toEqual([...ids].sort());
  });

  it('loses nothing when SIGKILLed right after answering 2xx', async () => {
    const bundle: Json = addServiceRequestWithQuirks();
    const answer = await post(bundle);
    expect(answer.status).toBe(200);
    service.kill('SIGKILL');
    await service.exited(10000);
    await start();
    expect(
      await count(`SELECT count(*) AS n FROM $schema.referrals WHERE bundle_id = $1`, [bundle['id']]),
    ).toBe(1);
    const again = await post(bundle);
    expect(again.text).toBe(answer.text);
    await waitFor('event published after restart', async () => (await pendingOutbox()) === 0, {
      timeoutMs: 60000,
    });
  });

  it('after a SIGKILL, accepts referrals as soon as it serves, while its consumers still rejoin their groups', async () => {
    service.kill('SIGKILL');
    await service.exited(10000);
    await start('none');
    const health = async (path: string) => {
      const response = await fetch(`${service.url}${path}`).catch(() => undefined);
      return response
        ? { status: response.status, body: (await response.json()) as { checks: Record<string, string> } }
        : undefined;
    };
    // The orchestrator's probe: up once HTTP can answer (Postgres, Kafka's producer, Vault).
    await waitFor('intake serving', async () => (await health('/health/serving'))?.status === 200, {
      timeoutMs: 60000,
      intervalMs: 100,
    });
    // The killed instance's consumers hold their groups until their Kafka session ends (30 s), so
    // the new ones are still joining: intake answers anyway, and says so in /health/ready.
    const during = await health('/health/ready');
    const metricsDuring = await (await fetch(`${service.url}/metrics`)).text();
    const bundle: Json = addServiceRequestWithQuirks();
    const answer = await post(bundle);
    expect(during).toMatchObject({
      status: 503,
      body: { checks: { consumers: 'down', postgres: 'up', kafka: 'up' } },
    });
    expect(metricsDuring).toContain('event_consumers_joined{service="referral-intake"} 0');
    expect(answer.status).toBe(200);
    expect(
      await count(`SELECT count(*) AS n FROM $schema.referrals WHERE bundle_id = $1`, [bundle['id']]),
    ).toBe(1);
    // Then the consumers join, and the service is ready in full.
    await service.waitReady(90000);
    expect((await health('/health/ready'))?.body.checks['consumers']).toBe('up');
    expect(await (await fetch(`${service.url}/metrics`)).text()).toContain(
      'event_consumers_joined{service="referral-intake"} 1',
    );
  });

  it('answers 503 with Retry-After while Postgres is down, and accepts again once it is back', async () => {
    // The test's own client would see its connection killed: close it first, reconnect after.
    await db.end();
    await stackCtl('stop', 'postgres');
    try {
      const answer = await post(addServiceRequestWithQuirks());
      expect(answer.status).toBe(503);
      expect(answer.json['resourceType']).toBe('OperationOutcome');
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await stackCtl('start', 'postgres');
    }
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    await waitFor('accepting again', async () => (await post(addServiceRequestWithQuirks())).status === 200, {
      timeoutMs: 60000,
      intervalMs: 500,
    });
  });

  describe('outbound copies', () => {
    let receiver: Server;
    let senderKey: string;
    let flakyId: string;
    let downId: string;
    const received: { path: string; key: string | undefined; bundleId: string; answered: number }[] = [];
    let downFixed = false;
    const seen = new Set<string>();

    beforeAll(async () => {
      receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const bundleId = (JSON.parse(Buffer.concat(chunks).toString()) as Json)['id'] as string;
          let status = 200;
          if (req.url === '/flaky' && !seen.has(bundleId)) {
            seen.add(bundleId);
            status = 503;
          }
          if (req.url === '/down' && !downFixed) status = 500;
          received.push({
            path: req.url ?? '',
            key: req.headers['x-copy-key'] as string | undefined,
            bundleId,
            answered: status,
          });
          res.writeHead(status).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      const port = (receiver.address() as { port: number }).port;
      senderKey = (await createIntegration(['--site', COPY_SITE, '--name', 'Ocean'])).apiKey!;
      const copy = (name: string, path: string) =>
        createIntegration([
          '--site',
          COPY_SITE,
          '--name',
          name,
          '--header',
          'X-Copy-Key',
          '--request-url',
          `http://127.0.0.1:${port}${path}`,
          '--outbound-key',
          `secret-for-${name}`,
          '--send-copies',
        ]);
      flakyId = (await copy('CHR flaky', '/flaky')).id;
      downId = (await copy('CHR down', '/down')).id;
    });

    afterAll(async () => {
      await new Promise((resolve) => receiver.close(resolve));
    });

    it('delivers each new referral exactly once to a receiver that fails first, dead-letters one that always fails, and replays it', async () => {
      const bundles = [addServiceRequestWithQuirks(), addServiceRequestWithQuirks()];
      for (const b of bundles)
        expect((await post(b, { 'Referral-Integration-API-Key': senderKey })).status).toBe(200);
      const ids = bundles.map((b) => b['id'] as string);
      const delivered = (path: string) =>
        received.filter((r) => r.path === path && r.answered === 200 && ids.includes(r.bundleId));

      await waitFor('copies to the flaky receiver', () => delivered('/flaky').length === 2, {
        timeoutMs: 60000,
      });
      await waitFor(
        'dead letters',
        async () => {
          const log = await cli(['integration', 'deliveries', '--site', COPY_SITE, '--id', downId]);
          return log.json['deliveries']?.filter((d: Json) => d.status === 'dead-lettered').length === 2;
        },
        { timeoutMs: 60000, intervalMs: 1000 },
      );
      const flakyLog = (await cli(['integration', 'deliveries', '--site', COPY_SITE, '--id', flakyId])).json[
        'deliveries'
      ];
      expect(flakyLog.map((d: Json) => [d.status, d.attempts])).toEqual([
        ['delivered', 2],
        ['delivered', 2],
      ]);
      const downLog = (await cli(['integration', 'deliveries', '--site', COPY_SITE, '--id', downId])).json[
        'deliveries'
      ];
      expect(
        downLog.every((d: Json) => d.attempts === 3 && d.lastStatus === 500 && d.lastError === 'http-5xx'),
      ).toBe(true);
      expect(received.filter((r) => r.path === '/down').length).toBe(6);
      expect(received.every((r) => r.key === `secret-for-CHR ${r.path.slice(1)}`)).toBe(true);

      downFixed = true;
      const replay = await cli(['integration', 'replay', '--site', COPY_SITE, '--id', downId]);
      expect(replay.json['replayed']).toHaveLength(2);
      await waitFor('replayed copies delivered', () => delivered('/down').length === 2, { timeoutMs: 30000 });
      // Settle: nothing arrives twice.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(
        delivered('/flaky')
          .map((r) => r.bundleId)
          .sort(),
      ).toEqual([...ids].sort());
      expect(
        delivered('/down')
          .map((r) => r.bundleId)
          .sort(),
      ).toEqual([...ids].sort());
      // The sender gets no copy of its own referral.
      expect(received.every((r) => r.path !== '/ocean')).toBe(true);
    });
  });
});
