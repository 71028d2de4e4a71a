// Synced appointments reach the platform: an EMR sync (real emr-gateway against the EMR
// simulator) publishes what it read, each appointment sealed under the site's SEK; referral-intake
// stores it and serves it to the site's OAuth clients as FHIR Appointment (and Patient) with
// `_lastUpdated` paging. Real vault service, Postgres, Kafka; tokens from the real token endpoint.
import { Events } from '@cloud-connect/contracts';
import { freePort, ServiceProcess, serviceEnvFor, waitFor } from '@cloud-connect/testing';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { credentialsFor, Harness, torontoToday } from '../../emr-gateway/test/harness';
import type { Json } from './support';

const h = new Harness(2);
let intake: ServiceProcess;
const intakeSchema = `${h.schema}_intake`;

beforeAll(async () => {
  await h.start();
  intake = new ServiceProcess(
    'referral-intake',
    await freePort(),
    serviceEnvFor('referral-intake', h.env, {
      DATABASE_SCHEMA: intakeSchema,
      ADMIN_JWKS_URL: `${h.vault.url}/.well-known/jwks.json`,
      VAULT_SERVICE_URL: h.vault.url,
      FHIR_SNAPSHOT_LAG_MS: '200',
    }),
  ).start();
  await intake.waitReady(120000);
}, 240000);

afterAll(async () => {
  await intake?.stop();
  await h.db?.query(`DROP SCHEMA IF EXISTS "${intakeSchema}" CASCADE`).catch(() => undefined);
  await h.stop();
});

async function clientToken(site: string, scopes: string[]): Promise<string> {
  const created = await fetch(`${intake.url}/admin/sites/${site}/oauth-clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `pull ${randomUUID().slice(0, 8)}`, scopes }),
  });
  expect(created.status).toBe(201);
  const json = (await created.json()) as Json;
  const response = await fetch(`${intake.url}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${json['client'].clientId as string}:${json['clientSecret'] as string}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as Json)['access_token'] as string;
}

const get = async (pathOrUrl: string, token: string): Promise<{ status: number; body: Json }> => {
  const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${intake.url}/fhir/${pathOrUrl}`;
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Json };
};

/** Every Appointment of a search, following next links (bounded), and the Patients included. */
async function allPages(first: string, token: string): Promise<{ appointments: Json[]; patients: Json[] }> {
  const appointments: Json[] = [];
  const patients: Json[] = [];
  let url: string | undefined = first;
  for (let pages = 0; url && pages < 100; pages += 1) {
    const page = await get(url, token);
    expect(page.status).toBe(200);
    for (const entry of (page.body['entry'] as Json[]) ?? []) {
      (entry['search'].mode === 'match' ? appointments : patients).push(entry['resource'] as Json);
    }
    url =
      ((page.body['link'] as Json[]).find((l) => l['relation'] === 'next')?.['url'] as string) ?? undefined;
  }
  return { appointments, patients };
}

async function sync(site: string, scope: 'recent' | 'full'): Promise<number> {
  const requestId = randomUUID();
  await h.send(Events.syncRequested, site, { requestId, scope, requestedBy: 'test' });
  const completed = await waitFor(
    `sync.completed (${scope})`,
    () =>
      h.published.find(
        (e) => e.type === 'sync.completed' && (e.payload as { requestId: string }).requestId === requestId,
      ),
    { timeoutMs: 60000 },
  );
  expect(completed.payload).toMatchObject({ outcome: 'succeeded' });
  return (completed.payload as { appointments: number }).appointments;
}

it('serves synced appointments as FHIR to the site’s clients only, paged by _lastUpdated without gaps or duplicates', async () => {
  const site = h.site();
  const other = h.site();
  // Three days of schedule from the site's today: a recent sync reads one, a full one all three.
  const sim = await h.simCreate({ type: 'accuro', seed: { startDate: torontoToday(), days: 3 } });
  const connected = await h.api('PUT', `/admin/sites/${site}/emr`, credentialsFor(sim));
  expect(connected.status).toBe(200);
  const reader = await clientToken(site, ['system/Appointment.rs', 'system/Patient.rs']);
  const referralsOnly = await clientToken(site, ['system/ServiceRequest.rs']);
  const otherSite = await clientToken(other, ['system/Appointment.rs', 'system/Patient.rs']);

  // Recent sync: today's appointments reach the pull API.
  const recent = await sync(site, 'recent');
  expect(recent).toBeGreaterThan(5);
  await waitFor(
    'the recent appointments served',
    async () => (await allPages('Appointment?_count=500', reader)).appointments.length === recent,
    { timeoutMs: 30000 },
  );
  const first = await allPages('Appointment?_count=4&_include=Appointment:patient', reader);
  const ids = first.appointments.map((a) => a['id'] as string);
  expect(new Set(ids).size).toBe(recent);
  expect(ids).toHaveLength(recent);
  const sample = first.appointments[0] as Json;
  expect(sample).toMatchObject({ resourceType: 'Appointment', status: expect.any(String) });
  expect(Date.parse(sample['end'] as string)).toBeGreaterThan(Date.parse(sample['start'] as string));
  // Every patient reference resolves to an included Patient (once per page) and by direct read.
  const patientRef = (sample['participant'] as Json[])[0]?.['actor'].reference as string;
  expect(first.patients.map((p) => `Patient/${p['id'] as string}`)).toContain(patientRef);
  const patient = await get(patientRef, reader);
  expect(patient.status).toBe(200);
  expect(patient.body).toMatchObject({
    resourceType: 'Patient',
    identifier: [{ value: expect.any(String) }],
  });
  expect((await get(`Appointment/${sample['id'] as string}`, reader)).body).toEqual(sample);
  const ordered = first.appointments.map((a) => a['meta'].lastUpdated as string);
  expect([...ordered].sort()).toEqual(ordered);
  const mark = ordered[ordered.length - 1] as string;

  // The same recent sync again changes nothing: nothing newer than the mark.
  await sync(site, 'recent');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect((await allPages(`Appointment?_lastUpdated=gt${mark}`, reader)).appointments).toHaveLength(0);

  // A full sync covers the whole window: only what it adds is newer than the mark, and the two
  // readings together are every appointment once.
  const full = await sync(site, 'full');
  expect(full).toBeGreaterThan(recent);
  await waitFor(
    'the full schedule served',
    async () => (await allPages('Appointment?_count=500', reader)).appointments.length === full,
    { timeoutMs: 30000 },
  );
  const added = await allPages(`Appointment?_lastUpdated=gt${mark}&_count=7`, reader);
  expect(added.appointments).toHaveLength(full - recent);
  const union = [...ids, ...added.appointments.map((a) => a['id'] as string)];
  expect(new Set(union).size).toBe(full);

  // Scopes: no Appointment scope is a 403 OperationOutcome; the include needs the Patient scope.
  const refused = await get('Appointment', referralsOnly);
  expect(refused.status).toBe(403);
  expect(refused.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'forbidden' }] });
  expect((await get(patientRef, referralsOnly)).status).toBe(403);
  const bad = await get('Appointment?date=2026', reader);
  expect(bad.status).toBe(400);
  expect(bad.body['issue'][0].diagnostics).toContain('date');
  expect((await get('Appointment?_cursor=nope', reader)).status).toBe(400);
  // Another site's client sees none of it.
  expect((await get('Appointment', otherSite)).body['entry']).toEqual([]);
  expect((await get(`Appointment/${sample['id'] as string}`, otherSite)).status).toBe(404);
  expect((await get(patientRef, otherSite)).status).toBe(404);
  expect((await get('Appointment', 'not-a-token')).status).toBe(401);

  // Discovery lists what is served.
  const smart = (await (await fetch(`${intake.url}/fhir/.well-known/smart-configuration`)).json()) as Json;
  expect(smart['scopes_supported']).toEqual(
    expect.arrayContaining(['system/Appointment.rs', 'system/Patient.r']),
  );
  const metadata = (await (await fetch(`${intake.url}/fhir/metadata`)).json()) as Json;
  const appointment = (metadata['rest'][0].resource as Json[]).find((r) => r['type'] === 'Appointment');
  expect((appointment?.['interaction'] as Json[]).map((i) => i['code'] as string)).toEqual([
    'read',
    'search-type',
  ]);
  expect(appointment?.['searchInclude']).toEqual(['Appointment:patient']);

  // PHI never in clear: not on Kafka (the outbox rows as published), not in intake's table or logs.
  const data = await h.simData(sim.id, true);
  const secrets = (data.appointments ?? []).flatMap((a) => [a.start, `"${a.patientId}"`]);
  const { rows: published } = await h.db.query(
    `SELECT envelope::text AS e FROM "${h.schema}".outbox WHERE topic = 'appointments.synced'`,
  );
  expect(published.length).toBeGreaterThan(0);
  const { rows: stored } = await h.db.query(
    `SELECT row_to_json(t)::text AS e FROM "${intakeSchema}".synced_appointments t`,
  );
  const clear = [...published, ...stored].map((r: { e: string }) => r.e).join('\n');
  const logs = readFileSync(intake.logFile, 'utf8') + readFileSync(h.service.logFile, 'utf8');
  for (const secret of secrets) {
    expect(clear).not.toContain(secret);
    expect(logs).not.toContain(secret);
  }
  expect(clear).not.toContain('patientId');
}, 300000);
