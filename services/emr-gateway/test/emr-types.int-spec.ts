// Every EMR type end to end against the simulator: connect with bad then good credentials, sync
// from a Kafka request, and a note, a PDF, an arrival and a tickler from Kafka commands to the chart.
import { Events } from '@cloud-connect/contracts';
import { waitFor } from '@cloud-connect/testing';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentialsFor, Harness, PDF_BASE64, torontoToday } from './harness';

const h = new Harness(10);

beforeAll(() => h.start(), 120000);
afterAll(() => h.stop());

const CASES = [
  { type: 'ps-suite', check: 'EMR Instance ID and EMR Secret', tickler: true },
  { type: 'med-access', check: 'EMR Instance ID and EMR Secret', tickler: true },
  { type: 'accuro', check: "'OceanAPI[tenant]'", tickler: true },
  { type: 'oscar-pro', check: 'username, password and PIN', tickler: true },
  { type: 'chr', check: 'API key', tickler: false },
  { type: 'fhir-r4', check: 'client credentials', tickler: true },
] as const;

describe.each(CASES)('$type', ({ type, check, tickler }) => {
  it('refuses wrong credentials saying what to check, then connects with the right ones', async () => {
    const site = h.site();
    const sim = await h.simCreate({ type });
    const bad = await h.api('PUT', `/admin/sites/${site}/emr`, credentialsFor(sim, 'bad'));
    expect(bad.status).toBe(422);
    expect(bad.body['code']).toBe('auth-rejected');
    expect(bad.body['detail']).toContain(check);
    expect((await h.status(site))['connection']?.['status']).toBe('not-configured');

    const good = await h.api('PUT', `/admin/sites/${site}/emr`, credentialsFor(sim));
    expect(good.status).toBe(200);
    expect(good.body['connection']).toMatchObject({ status: 'connected', emrType: type });
    expect((good.body['connection'] as { providers: unknown[] }).providers).toHaveLength(4);
    // Credentials live in Vault, never in Postgres.
    const { rows } = await h.db.query(
      `SELECT row_to_json(c)::text AS row FROM "${h.schema}".emr_connections c WHERE site_number = $1`,
      [site],
    );
    const secret = Object.values(sim.credentials).find((v) => v && v.length > 12) ?? 'none';
    expect(String(rows[0]?.row)).not.toContain(secret);
    expect(readFileSync(h.service.logFile, 'utf8')).not.toContain(secret);

    // A recent sync: providers, then the 4 providers' appointments for the configured days
    // (today, 6 each); a full sync covers the whole schedule window instead.
    const requestId = randomUUID();
    await h.send(Events.syncRequested, site, { requestId, scope: 'recent', requestedBy: 'test' });
    const completed = await waitFor('sync.completed', () =>
      h.published.find(
        (e) => e.type === 'sync.completed' && (e.payload as { requestId: string }).requestId === requestId,
      ),
    );
    expect(completed.payload).toMatchObject({ outcome: 'succeeded', appointments: 24, providerProblems: [] });
    const status = await h.status(site);
    expect(status['sync']).toMatchObject({ state: 'idle', lastError: null, lastAppointments: 24 });
    expect(status['sync']?.['lastSuccessAt']).toEqual(expect.any(String));
    // The next slots come from the scheduler's schedules (not running in this suite).
    expect(status['sync']).toMatchObject({ nextDueAt: null, nextFullAt: null });

    // Commands from Kafka to the chart.
    await h.setSettings(site, { importAttachmentsAsPdf: true });
    const data = await h.simData(sim.id, true);
    const today = torontoToday();
    const appointment = data.appointments!.find((a) => a.start.startsWith(today))!;
    const patient = data.patients.find((p) => p.id === appointment.patientId)!;
    const key = `patient-${patient.id}`;
    const note = await h.command(site, 'save-progress-note', key, {
      patient: { healthNumber: patient.healthNumber },
      text: `PHQ-9 score 4 (${type})`,
    });
    const pdf = await h.command(site, 'attach-pdf', key, {
      patient: { healthNumber: patient.healthNumber },
      title: 'eReferral',
      pdfBase64: PDF_BASE64,
    });
    const checkedInAt = new Date(Date.parse(appointment.start) - 3600000).toISOString();
    const arrived = await h.command(site, 'mark-arrived', key, {
      patient: { healthNumber: patient.healthNumber },
      checkedInAt,
    });
    const tick = await h.command(site, 'create-tickler', key, {
      patient: { healthNumber: patient.healthNumber },
      message: 'Call back re: results',
      dueDate: today,
    });
    await h.waitCommands(site, [note, pdf, arrived], 'applied');
    await h.waitCommands(site, [tick], tickler ? 'applied' : 'dead');

    const after = await h.simData(sim.id);
    expect(after.notes.filter((n) => n.patientId === patient.id).map((n) => n.text)).toEqual([
      `PHQ-9 score 4 (${type})`,
    ]);
    expect(after.notes[0]?.idempotencyKey).toBe(note);
    expect(after.documents).toEqual([expect.objectContaining({ patientId: patient.id, title: 'eReferral' })]);
    expect(after.arrived).toContain(appointment.id);
    expect(after.ticklers).toHaveLength(tickler ? 1 : 0);
    if (!tickler) {
      // The CHR has no task list: dead-lettered at once, the clinical admin told.
      expect((await h.commandState(site, tick))?.['lastError']).toContain('does not support');
      await waitFor('dead-letter alert', () => h.alerts(site, 'emr-command-dead-lettered').length === 1);
    }
    // Every admin action was audited.
    const actions = h.published
      .filter((e) => e.type === 'audit.recorded' && e.siteId === site)
      .map((e) => (e.payload as { action: string }).action);
    expect(actions).toEqual(expect.arrayContaining(['emr.connect', 'emr.settings.update']));
  });
});

describe('settings and connection admin', () => {
  it('validates settings naming the field, versions them, and refuses an unknown provider', async () => {
    const site = h.site();
    const sim = await h.simCreate({ type: 'accuro' });
    await h.connect(site, sim);
    const initial = await h.api('GET', `/admin/sites/${site}/emr/settings`);
    expect(initial.body).toMatchObject({
      version: 1,
      settings: {
        scheduleDaysToSync: 1,
        combineProgressNotes: false,
        markArrivedWithinHours: 2,
        syncProviderIds: ['101', '102', '103', '104'],
      },
    });
    const bad = await h.api('PUT', `/admin/sites/${site}/emr/settings`, {
      settings: { scheduleDaysToSync: 0 },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('scheduleDaysToSync');
    const unknown = await h.api('PUT', `/admin/sites/${site}/emr/settings`, {
      settings: { syncProviderIds: ['999'] },
    });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain('provider 999');
    const ok = await h.api('PUT', `/admin/sites/${site}/emr/settings`, {
      settings: { scheduleDaysToSync: 3 },
      expectedVersion: 1,
    });
    expect(ok.body).toMatchObject({ version: 2, settings: { scheduleDaysToSync: 3 } });
    const stale = await h.api('PUT', `/admin/sites/${site}/emr/settings`, {
      settings: {},
      expectedVersion: 1,
    });
    expect(stale.status).toBe(409);
  });

  it('says plainly when the EMR is unreachable, and disconnects (credentials removed from Vault)', async () => {
    const site = h.site();
    const unreachable = await h.api('PUT', `/admin/sites/${site}/emr`, {
      type: 'oscar-pro',
      baseUrl: 'http://127.0.0.1:9/oscar/x',
      username: 'OceanConnect',
      password: 'p',
      pin: '1234',
    });
    expect(unreachable.status).toBe(422);
    expect(unreachable.body['code']).toBe('unreachable');
    expect(unreachable.body['detail']).toMatch(/Could not reach OSCAR Pro/);

    const malformed = await h.api('PUT', `/admin/sites/${site}/emr`, {
      type: 'accuro',
      tenant: '',
      clientId: 'x',
    });
    expect(malformed.status).toBe(400);
    expect(JSON.stringify(malformed.body)).toContain('clientSecret');

    const sim = await h.simCreate({ type: 'oscar-pro', proAuth: true });
    // Pro Auth: no PIN.
    await h.connect(site, sim);
    const vault = await fetch(`${h.env.VAULT_ADDR}/v1/secret/data/emr-connections/${site}`, {
      headers: { 'X-Vault-Token': h.env.VAULT_TOKEN },
    });
    expect(
      ((await vault.json()) as { data: { data: { username: string; pin: null } } }).data.data,
    ).toMatchObject({ username: 'OceanConnect', pin: null });
    expect((await h.api('DELETE', `/admin/sites/${site}/emr`)).status).toBe(204);
    const gone = await fetch(`${h.env.VAULT_ADDR}/v1/secret/data/emr-connections/${site}`, {
      headers: { 'X-Vault-Token': h.env.VAULT_TOKEN },
    });
    expect(gone.status).toBe(404);
    expect((await h.status(site))['connection']?.['status']).toBe('disconnected');
  });

  it('refuses callers without a token (401) and admins of another site (403)', async () => {
    const site = h.site();
    expect((await h.api('GET', `/admin/sites/${site}/emr`, undefined, null)).status).toBe(401);
    expect((await h.api('GET', `/admin/sites/123456/emr`)).status).toBe(403);
    expect((await h.api('GET', `/admin/sites/${site}/emr`)).status).toBe(200);
  });

  it('the CLI connects (refusing bad credentials plainly), shows status and requests a sync', async () => {
    const site = h.site();
    const sim = await h.simCreate({ type: 'med-access' });
    const cli = (args: string[]) =>
      h.cliAsAdmin(['emr', ...args, '--site', site], { EMR_GATEWAY_URL: h.service.url });
    const bad = join(tmpdir(), `emr-bad-${site}.json`);
    const good = join(tmpdir(), `emr-good-${site}.json`);
    writeFileSync(bad, JSON.stringify(credentialsFor(sim, 'bad')));
    writeFileSync(good, JSON.stringify(credentialsFor(sim)));
    const refused = await cli(['connect', '--credentials', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Med Access rejected the credentials');
    const connected = await cli(['connect', '--credentials', good]);
    expect(connected.code).toBe(0);
    expect(JSON.parse(connected.stdout)).toMatchObject({
      connection: { status: 'connected', emrType: 'med-access' },
    });
    const sync = await cli(['sync', '--scope', 'recent']);
    expect(JSON.parse(sync.stdout)).toMatchObject({ scope: 'recent', requestId: expect.any(String) });
    await waitFor('sync via CLI', async () => {
      const status = JSON.parse((await cli(['status'])).stdout) as { sync: { lastAppointments?: number } };
      return status.sync.lastAppointments === 24;
    });
    expect((await cli(['disconnect'])).code).toBe(0);
  });
});
