/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- the test walks FHIR JSON answers */
// Status back (docs/architecture.md, flow 2) against the real stack: an integrator with OAuth client
// credentials (tokens through openid-client) posts notify-update-status and notify-*-appointment
// messages with fhir-kit-client to referral-intake's $process-message; the referral's state
// changes in the pull API and `referral.status-changed` / `appointment.changed` reach Kafka.
import { createKafka } from '@cloud-connect/kafka';
import {
  createUser,
  freePort,
  provisionSiteSek,
  readTopic,
  ServiceProcess,
  serviceEnvFor,
  signIn,
  stackEnv,
  uniqueName,
  TestCli,
} from '@cloud-connect/testing';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Issuer } from 'openid-client';
import { Client as Pg } from 'pg';
import {
  addServiceRequestWithQuirks,
  appointmentFor,
  serviceRequestIdOf,
  statusUpdateFor,
} from '@cloud-connect/testing';
import { loadFhirKitClient, type Json } from './support';

const env = stackEnv();
const vaultSchema = uniqueName('status_vault');
const schema = uniqueName('status_intake');
const SITE = String(420000000 + Math.floor(Math.random() * 9999999));
const OTHER = String(Number(SITE) + 10000000);
const PASSWORD = 'correct horse battery staple';
const FhirKit = loadFhirKitClient();

let testCli: TestCli;
const cli = (args: string[]) => testCli.run(args);

describe('status back from integrators (real vault, referral-intake, Postgres, Kafka)', () => {
  let vault: ServiceProcess;
  let intake: ServiceProcess;
  let db: Pg;
  const tokens: Record<'writer' | 'reader' | 'otherSite' | 'taskOnly', string> = {
    writer: '',
    reader: '',
    otherSite: '',
    taskOnly: '',
  };
  const apiKeys: Record<string, string> = {};
  const clientIds: Record<string, string> = {};
  const kafka = createKafka({ brokers: env.KAFKA_BROKERS.split(','), clientId: 'status-back-it' });

  async function postReferral(site: string): Promise<Json> {
    const bundle = addServiceRequestWithQuirks();
    const response = await fetch(`${intake.url}/public/ocean/fhir_bundles`, {
      method: 'POST',
      headers: {
        'content-type': 'application/fhir+json',
        'Referral-Integration-API-Key': apiKeys[site] ?? '',
      },
      body: JSON.stringify(bundle),
    });
    expect(response.status).toBe(200);
    return bundle;
  }

  /** The raw HTTP post, for the rejections (fhir-kit-client throws on them). */
  async function postStatus(body: unknown, headers: Record<string, string>) {
    const response = await fetch(`${intake.url}/fhir/$process-message`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, headers: response.headers, json: (await response.json()) as Json };
  }
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  const fhir = (token: string) => new FhirKit({ baseUrl: `${intake.url}/fhir`, bearerToken: token });
  const process$ = (token: string, bundle: Json) =>
    fhir(token).operation({ name: '$process-message', input: bundle }) as Promise<Json>;
  const readSr = async (token: string, id: string) =>
    (await fhir(token).read({ resourceType: 'ServiceRequest', id })) as Json;

  async function count(sql: string, params: unknown[]): Promise<number> {
    const { rows } = await db.query<{ n: string }>(sql.replaceAll('$schema', `"${schema}"`), params);
    return Number(rows[0]?.n ?? 0);
  }
  /** Everything a rejected request must leave untouched. */
  const footprint = async () => [
    await count(`SELECT count(*) AS n FROM $schema.referrals WHERE site_number = ANY($1)`, [[SITE, OTHER]]),
    await count(`SELECT count(*) AS n FROM $schema.outbox`, []),
    await count(`SELECT count(*) AS n FROM $schema.referral_states WHERE site_number = ANY($1)`, [
      [SITE, OTHER],
    ]),
    await count(`SELECT count(*) AS n FROM $schema.referral_appointments WHERE site_number = ANY($1)`, [
      [SITE, OTHER],
    ]),
  ];

  async function events(topic: string, messageIds: string[]): Promise<Json[]> {
    const read = await readTopic(kafka, topic, { expected: 1, timeoutMs: 30000, settleMs: 2500 });
    return read
      .map((m) => ({ key: m.key, value: m.value, envelope: JSON.parse(m.value) as Json }))
      .filter((m) => messageIds.includes(String(m.envelope['payload']?.messageId)));
  }

  beforeAll(async () => {
    vault = new ServiceProcess(
      'vault',
      await freePort(),
      serviceEnvFor('vault', env, { DATABASE_SCHEMA: vaultSchema }),
    ).start();
    await vault.waitReady(90000);
    testCli = new TestCli(vault.url);
    for (const number of [SITE, OTHER]) {
      const created = await cli([
        'site',
        'create',
        '--number',
        number,
        '--name',
        `Site ${number}`,
        '--admin-email',
        'owner@clinic.ca',
      ]);
      expect(created.code).toBe(0);
    }
    await createUser({
      vaultUrl: vault.url,
      email: 'status-admin@clinic.ca',
      password: PASSWORD,
      siteNumber: SITE,
    });
    await createUser({
      vaultUrl: vault.url,
      email: 'status-other@clinic.ca',
      password: PASSWORD,
      siteNumber: OTHER,
    });
    // Referral messages are stored encrypted under each site's SEK, through the vault service.
    for (const site of [SITE, OTHER]) await provisionSiteSek({ vaultUrl: vault.url, site });
    intake = new ServiceProcess(
      'referral-intake',
      await freePort(),
      serviceEnvFor('referral-intake', env, {
        DATABASE_SCHEMA: schema,
        ADMIN_JWKS_URL: `${vault.url}/.well-known/jwks.json`,
        VAULT_SERVICE_URL: vault.url,
        FHIR_SNAPSHOT_LAG_MS: '200',
      }),
    ).start();
    await intake.waitReady(90000);
    testCli.env['REFERRAL_INTAKE_URL'] = intake.url;
    const admins = {
      [SITE]: await signIn(vault.url, 'status-admin@clinic.ca', PASSWORD),
      [OTHER]: await signIn(vault.url, 'status-other@clinic.ca', PASSWORD),
    };
    for (const site of [SITE, OTHER]) {
      const created = await cli(['integration', 'create', '--site', site, '--name', 'CHR']);
      expect(created.code).toBe(0);
      apiKeys[site] = created.json['apiKey'] as string;
    }
    const smart = (await (await fetch(`${intake.url}/.well-known/smart-configuration`)).json()) as Json;
    const issuer = new Issuer({ issuer: smart['token_endpoint'], token_endpoint: smart['token_endpoint'] });
    const grants: [keyof typeof tokens, string, string][] = [
      ['writer', SITE, 'system/ServiceRequest.rs system/Task.u system/Appointment.cu'],
      ['reader', SITE, 'system/ServiceRequest.rs'],
      ['otherSite', OTHER, 'system/ServiceRequest.rs system/Task.write system/Appointment.write'],
      // May write Tasks but does not read the site's referrals: not one of their receivers.
      ['taskOnly', SITE, 'system/Task.u'],
    ];
    for (const [name, site, scope] of grants) {
      const response = await fetch(`${intake.url}/admin/sites/${site}/oauth-clients`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admins[site] ?? ''}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `Regional system (${name})`, scopes: scope.split(' ') }),
      });
      expect(response.status).toBe(201);
      const body = (await response.json()) as Json;
      clientIds[name] = body['client'].clientId as string;
      const client = new issuer.Client({
        client_id: body['client'].clientId as string,
        client_secret: body['clientSecret'] as string,
        token_endpoint_auth_method: 'client_secret_basic',
      });
      tokens[name] = (await client.grant({ grant_type: 'client_credentials' })).access_token ?? '';
    }
    db = new Pg({ connectionString: env.DATABASE_URL });
    await db.connect();
  }, 240000);

  afterAll(async () => {
    await intake?.stop();
    await vault?.stop();
    if (db) {
      for (const s of [schema, vaultSchema]) await db.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      await db.end();
    }
  });

  it('declining a referral changes its status in the pull API, moves it forward for pollers, and publishes referral.status-changed once', async () => {
    const referral = await postReferral(SITE);
    const id = serviceRequestIdOf(referral);
    expect((await readSr(tokens.writer, id))['status']).toBe('active');
    const before = (await readSr(tokens.writer, id))['meta'].lastUpdated as string;

    const decline = statusUpdateFor(referral, {
      taskStatus: 'rejected',
      businessStatus: { code: 'declined', display: 'Declined: not a surgical candidate for Marie Tremblay' },
    });
    const answer = await process$(tokens.writer, decline);
    const header = answer['entry'][0].resource;
    expect(header).toMatchObject({ resourceType: 'MessageHeader', response: { code: 'ok' } });
    const sentHeader = (decline['entry'] as { resource: { id: string } }[])[0]?.resource;
    expect(header.response.identifier).toBe(sentHeader?.id);

    const after = await readSr(tokens.reader, id);
    expect(after['status']).toBe('revoked');
    expect(after['meta'].lastUpdated > before).toBe(true);
    // A search sees rows older than FHIR_SNAPSHOT_LAG_MS (200 ms here): a poller's next poll.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const polled = (await fhir(tokens.reader).search({
      resourceType: 'ServiceRequest',
      searchParams: { _lastUpdated: `gt${before}`, status: 'revoked' },
    })) as Json;
    expect((polled['entry'] ?? []).map((e: Json) => e['resource'].id)).toEqual([id]);

    // The same message again (a client retry): the original answer, nothing new.
    const footprintBefore = await footprint();
    expect(await process$(tokens.writer, decline)).toEqual(answer);
    expect(await footprint()).toEqual(footprintBefore);

    const { rows } = await db.query(`SELECT id FROM "${schema}".referrals WHERE bundle_id = $1`, [
      decline['id'],
    ]);
    expect(rows).toHaveLength(1);
    const published = await events('referral.status-changed', [rows[0].id as string]);
    expect(published).toHaveLength(1);
    expect(published[0]?.key).toBe(SITE);
    expect(published[0]?.envelope['payload']).toMatchObject({
      serviceRequestId: id,
      status: 'revoked',
      taskStatus: 'rejected',
      businessStatus: 'declined',
      changedBy: `oauth-client:${clientIds['writer']}`,
    });
    // Codes only on Kafka: neither the patient nor the free text the receiver wrote.
    expect(published[0]?.value).not.toMatch(/Tremblay|surgical candidate/);
  });

  it('a booked, moved and cancelled appointment publishes appointment.changed for each, in order', async () => {
    const referral = await postReferral(SITE);
    const appointmentId = `appt-${Date.now()}`;
    const steps = [
      {
        event: 'notify-add-appointment',
        status: 'booked',
        start: '2026-12-03T09:30:00-05:00',
        end: '2026-12-03T10:00:00-05:00',
      },
      {
        event: 'notify-update-appointment',
        status: 'booked',
        start: '2026-12-04T14:00:00-05:00',
        end: '2026-12-04T14:30:00-05:00',
      },
      { event: 'notify-revoke-appointment', status: 'cancelled' },
    ] as const;
    const bundleIds: string[] = [];
    for (const [i, step] of steps.entries()) {
      const bundle = appointmentFor(referral, {
        ...step,
        appointmentId,
        timestamp: `2026-11-2${i + 1}T10:00:00Z`,
      });
      bundleIds.push(String(bundle['id']));
      const answer = await process$(tokens.writer, bundle);
      expect(answer['entry'][0].resource.response.code).toBe('ok');
    }
    const { rows: stored } = await db.query(
      `SELECT id FROM "${schema}".referrals WHERE bundle_id = ANY($1) ORDER BY received_at`,
      [bundleIds],
    );
    const published = await events(
      'appointment.changed',
      stored.map((r) => r.id as string),
    );
    expect(published.map((p) => p.envelope['payload'])).toEqual([
      expect.objectContaining({
        appointmentId,
        status: 'booked',
        start: '2026-12-03T09:30:00-05:00',
        source: 'referral',
      }),
      expect.objectContaining({ appointmentId, status: 'booked', start: '2026-12-04T14:00:00-05:00' }),
      expect.objectContaining({ appointmentId, status: 'cancelled' }),
    ]);
    const { rows } = await db.query(
      `SELECT status, starts_at FROM "${schema}".referral_appointments WHERE site_number = $1 AND appointment_id = $2`,
      [SITE, appointmentId],
    );
    expect(rows).toEqual([{ status: 'cancelled', starts_at: new Date('2026-12-04T19:00:00Z') }]);
  });

  it('stores a late, older status message but does not let it undo a newer one', async () => {
    const referral = await postReferral(SITE);
    const id = serviceRequestIdOf(referral);
    await process$(
      tokens.writer,
      statusUpdateFor(referral, { taskStatus: 'completed', timestamp: '2026-11-22T12:00:00Z' }),
    );
    const late = await process$(
      tokens.writer,
      statusUpdateFor(referral, { taskStatus: 'accepted', timestamp: '2026-11-22T09:00:00Z' }),
    );
    const outcome = late['entry'].find(
      (e: Json) => e['resource'].resourceType === 'OperationOutcome',
    )?.resource;
    expect(outcome?.issue).toContainEqual(
      expect.objectContaining({
        severity: 'information',
        diagnostics: expect.stringMatching(/newer status/),
      }),
    );
    expect((await readSr(tokens.reader, id))['status']).toBe('completed');
  });

  it('role rule: only a receiver changes a referral, its sender may only cancel it, anyone else of the site gets 403', async () => {
    // A receiver integration gets copies of the site's referrals (a real HTTP endpoint answering 200).
    const copies = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200).end());
    });
    await new Promise<void>((resolve) => copies.listen(0, '127.0.0.1', resolve));
    try {
      const integration = async (name: string, extra: string[] = []) => {
        const created = await cli(['integration', 'create', '--site', SITE, '--name', name, ...extra]);
        expect(created.code).toBe(0);
        return { 'Referral-Integration-API-Key': created.json['apiKey'] as string };
      };
      const port = (copies.address() as AddressInfo).port;
      const receiver = await integration('EMR receiving copies', [
        '--request-url',
        `http://127.0.0.1:${port}/copies`,
        '--outbound-key',
        'copy-key',
        '--send-copies',
      ]);
      const bystander = await integration('Another CHR');
      const sender = { 'Referral-Integration-API-Key': apiKeys[SITE] ?? '' };
      const referral = await postReferral(SITE);
      const id = serviceRequestIdOf(referral);
      const status = (taskStatus: string) => statusUpdateFor(referral, { taskStatus });
      const states = () =>
        count(
          `SELECT count(*) AS n FROM $schema.referral_states WHERE site_number = $1 AND service_request_id = $2`,
          [SITE, id],
        );
      const refused: [string, Record<string, string>, string, RegExp][] = [
        ['its sender putting it on hold', sender, 'on-hold', /sender may only cancel or revoke/],
        ['an integration that gets no copies', bystander, 'accepted', /only a receiver/],
        ['a client that does not read referrals', bearer(tokens.taskOnly), 'accepted', /only a receiver/],
      ];
      for (const [who, headers, taskStatus, diagnostics] of refused) {
        const answer = await postStatus(status(taskStatus), headers);
        expect({ who, status: answer.status }).toEqual({ who, status: 403 });
        expect(answer.json['resourceType']).toBe('OperationOutcome');
        expect(JSON.stringify(answer.json['issue'])).toMatch(diagnostics);
      }
      expect(await states()).toBe(0);
      // Its receivers change it: the integration that gets copies, the client that reads referrals.
      expect((await postStatus(status('on-hold'), receiver)).status).toBe(200);
      expect((await readSr(tokens.reader, id))['status']).toBe('on-hold');
      expect((await postStatus(status('in-progress'), bearer(tokens.writer))).status).toBe(200);
      expect((await readSr(tokens.reader, id))['status']).toBe('active');
      // Its sender cancels it.
      expect((await postStatus(status('cancelled'), sender)).status).toBe(200);
      expect((await readSr(tokens.reader, id))['status']).toBe('revoked');
    } finally {
      await new Promise((resolve) => copies.close(resolve));
    }
  });

  it('advertises status back in the CapabilityStatement and the SMART configuration', async () => {
    const metadata = (await fhir(tokens.reader).capabilityStatement()) as Json;
    expect(metadata['rest'][0].operation).toContainEqual(
      expect.objectContaining({ name: 'process-message' }),
    );
    expect(metadata['messaging'][0].supportedMessage).toHaveLength(4);
    const smart = (await (await fetch(`${intake.url}/.well-known/smart-configuration`)).json()) as Json;
    expect(smart['scopes_supported']).toEqual(
      expect.arrayContaining(['system/Task.u', 'system/Appointment.write']),
    );
  });

  it('refuses what it must, with an OperationOutcome and the right status, and changes nothing', async () => {
    const referral = await postReferral(SITE);
    const otherReferral = await postReferral(OTHER);
    const accept = () => statusUpdateFor(referral, { taskStatus: 'accepted' });
    const before = await footprint();
    const cases: [string, () => Promise<{ status: number; headers: Headers; json: Json }>, number, RegExp][] =
      [
        [
          'an invalid token',
          () => postStatus(accept(), bearer(`${tokens.writer.slice(0, -4)}AAAA`)),
          401,
          /invalid or expired/,
        ],
        ['no credentials at all', () => postStatus(accept(), {}), 401, /API key is required/],
        [
          'a token without Task write',
          () => postStatus(accept(), bearer(tokens.reader)),
          403,
          /system\/Task\.u/,
        ],
        [
          "another site's referral",
          () => postStatus(statusUpdateFor(otherReferral, { taskStatus: 'accepted' }), bearer(tokens.writer)),
          422,
          /not a referral of this site/,
        ],
        [
          "this site's referral with another site's token",
          () => postStatus(accept(), bearer(tokens.otherSite)),
          422,
          /not a referral of this site/,
        ],
        [
          'a new referral posted with a token',
          () => postStatus(addServiceRequestWithQuirks(), bearer(tokens.writer)),
          422,
          /status back/,
        ],
        [
          'a booked appointment without a start',
          () => postStatus(appointmentFor(referral, { status: 'booked' }), bearer(tokens.writer)),
          422,
          /start time/,
        ],
        [
          'malformed JSON',
          () => postStatus('{"resourceType": "Bundle", ', bearer(tokens.writer)),
          400,
          /not valid JSON/,
        ],
        [
          'the wrong media type',
          () =>
            fetch(`${intake.url}/fhir/$process-message`, {
              method: 'POST',
              headers: { 'content-type': 'text/plain', ...bearer(tokens.writer) },
              body: JSON.stringify(accept()),
            }).then(async (r) => ({ status: r.status, headers: r.headers, json: (await r.json()) as Json })),
          415,
          /application\/fhir\+json/,
        ],
      ];
    for (const [name, send, status, diagnostics] of cases) {
      const answer = await send();
      expect({ name, status: answer.status }).toEqual({ name, status });
      expect(answer.json['resourceType']).toBe('OperationOutcome');
      expect({ name, text: JSON.stringify(answer.json['issue']) }).toEqual({
        name,
        text: expect.stringMatching(diagnostics),
      });
    }
    expect((await postStatus(accept(), bearer('a.b.c'))).headers.get('www-authenticate')).toMatch(
      /invalid_token/,
    );
    // The two referrals posted above are the only change.
    const after = await footprint();
    expect(after[0]).toBe(before[0] ?? 0);
    expect(after.slice(2)).toEqual(before.slice(2));
    expect((await readSr(tokens.reader, serviceRequestIdOf(referral)))['status']).toBe('active');
  });
});
