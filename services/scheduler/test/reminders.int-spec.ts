// Patient reminders end to end on the real stack: a referral posted to referral-intake, its
// appointment booked by status back (notify-*-appointment), the patient's contact sealed by the
// vault service, planned by the scheduler under the site's policy (a 10-minute lead, with minutes
// shortened to seconds), delivered by the notifier over real SMTP in the patient's language.
// Moved, cancelled, and the scheduler and notifier SIGKILLed around the send: one reminder each.
import {
  createUser,
  freePort,
  MailInbox,
  provisionSiteSek,
  ServiceProcess,
  serviceEnvFor,
  adminSession,
  sleep,
  stackEnv,
  uniqueName,
  waitFor,
  type ReceivedMail,
  TestCli,
} from '@cloud-connect/testing';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client as Pg } from 'pg';
import { addServiceRequestWithQuirks, appointmentFor, statusUpdateFor } from '@cloud-connect/testing';
import { type Json } from '../../referral-intake/test/support';

const env = stackEnv();
const vaultSchema = uniqueName('rem_vault');
const intakeSchema = uniqueName('rem_intake');
const schedSchema = uniqueName('rem_sched');
const notifierSchema = uniqueName('rem_notify');
const SITE = String(440000000 + Math.floor(Math.random() * 9999999));
const EMAIL = `marie.${SITE}@patient.example`;
const PHONES = ['416-555-0142', '+14165550142', '4165550142'];
const REFERRER = `dr.singh.${SITE}@referrer.example`;
const PASSWORD = 'correct horse battery staple';
const SECOND = 1000;
const inbox = new MailInbox(env.MAIL_API_URL);

let testCli: TestCli;
const cli = (args: string[]) => testCli.run(args);

describe('patient reminders (real vault, intake, scheduler, notifier, Postgres, Kafka, SMTP)', () => {
  let vault: ServiceProcess;
  let intake: ServiceProcess;
  let scheduler: ServiceProcess;
  let notifier: ServiceProcess;
  let db: Pg;
  let apiKey = '';
  // The referral's receiver (it gets copies): only a receiver may book its appointment.
  let receiverKey = '';
  const copies = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end());
  });
  /** The site admin's token, signed in again as it ages (the suite can outlive a 5-minute token). */
  let admin: () => Promise<string>;
  const logs: string[] = [];
  const referral = addServiceRequestWithQuirks();
  const patient = (referral['entry'] as { resource: Json }[]).find(
    (e) => e.resource['resourceType'] === 'Patient',
  )?.resource as Json;
  patient['telecom'] = [...(patient['telecom'] as unknown[]), { system: 'email', value: EMAIL }];
  /** The referrer (the requester, a Practitioner here) has an e-mail and speaks French. */
  const withReferrer = (bundle: Json): Json => {
    for (const { resource } of bundle['entry'] as { resource: Json }[]) {
      if (resource['resourceType'] !== 'Practitioner') continue;
      resource['telecom'] = [
        ...((resource['telecom'] as unknown[]) ?? []),
        { system: 'email', value: REFERRER },
      ];
      resource['communication'] = [{ coding: [{ system: 'urn:ietf:bcp:47', code: 'fr-CA' }] }];
    }
    return bundle;
  };
  withReferrer(referral);
  const referrerMails = async (subject: RegExp): Promise<ReceivedMail[]> =>
    (await inbox.list(REFERRER)).filter((m) => subject.test(m.subject));

  const start = (name: 'scheduler' | 'notifier', port: number, overrides: Record<string, string>) => {
    const p = new ServiceProcess(name, port, serviceEnvFor(name, env, overrides)).start();
    logs.push(p.logFile);
    return p;
  };
  const schedulerEnv = () => ({
    DATABASE_SCHEMA: schedSchema,
    ADMIN_JWKS_URL: `${vault.url}/.well-known/jwks.json`,
    REMINDER_MINUTE_MS: String(SECOND),
    SCHEDULER_TICK_MS: '200',
  });
  const notifierEnv = () => ({
    DATABASE_SCHEMA: notifierSchema,
    VAULT_SERVICE_URL: vault.url,
    NOTIFY_RETRY_BASE_MS: '300',
    NOTIFY_RETRY_MAX_MS: '2000',
  });

  async function post(bundle: Json, key = receiverKey): Promise<void> {
    const response = await fetch(`${intake.url}/fhir/$process-message`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', 'Referral-Integration-API-Key': key },
      body: JSON.stringify(bundle),
    });
    expect(response.status).toBe(200);
  }
  const book = (
    appointmentId: string,
    startAt: Date,
    event:
      | 'notify-add-appointment'
      | 'notify-update-appointment'
      | 'notify-revoke-appointment' = 'notify-add-appointment',
  ) =>
    post(
      appointmentFor(referral, {
        event,
        appointmentId,
        status: event === 'notify-revoke-appointment' ? 'cancelled' : 'booked',
        start: startAt.toISOString(),
        timestamp: new Date().toISOString(),
      }),
    );
  const mails = async (subject: RegExp): Promise<ReceivedMail[]> =>
    (await inbox.list(EMAIL)).filter((m) => subject.test(m.subject));
  const reminders = async (appointmentId: string): Promise<Json[]> => {
    const response = await fetch(
      `${scheduler.url}/admin/sites/${SITE}/reminders?appointment=${encodeURIComponent(appointmentId)}`,
      { headers: { authorization: `Bearer ${await admin()}` } },
    );
    expect(response.status).toBe(200);
    return ((await response.json()) as Json)['reminders'] as Json[];
  };
  /** The text of a reminder mail about the appointment at `at` (French, Toronto time). */
  const aboutTime = (at: Date) =>
    new Intl.DateTimeFormat('fr-CA', { timeStyle: 'short', timeZone: 'America/Toronto' }).format(at);

  beforeAll(async () => {
    vault = new ServiceProcess(
      'vault',
      await freePort(),
      serviceEnvFor('vault', env, { DATABASE_SCHEMA: vaultSchema }),
    ).start();
    logs.push(vault.logFile);
    await vault.waitReady(240000);
    testCli = new TestCli(vault.url);
    const created = await cli([
      'site',
      'create',
      '--number',
      SITE,
      '--name',
      'Clinique Saint-Laurent',
      '--admin-email',
      'owner@clinic.ca',
    ]);
    expect(created.code).toBe(0);
    await createUser({
      vaultUrl: vault.url,
      email: `rem-admin-${SITE}@clinic.ca`,
      password: PASSWORD,
      siteNumber: SITE,
    });
    await provisionSiteSek({ vaultUrl: vault.url, site: SITE });
    intake = new ServiceProcess(
      'referral-intake',
      await freePort(),
      serviceEnvFor('referral-intake', env, {
        DATABASE_SCHEMA: intakeSchema,
        ADMIN_JWKS_URL: `${vault.url}/.well-known/jwks.json`,
        VAULT_SERVICE_URL: vault.url,
        // The receiving EMR listens on loopback http (the service refuses http request URLs otherwise).
      }),
    ).start();
    logs.push(intake.logFile);
    scheduler = start('scheduler', await freePort(), schedulerEnv());
    notifier = start('notifier', await freePort(), notifierEnv());
    await Promise.all([intake.waitReady(240000), scheduler.waitReady(240000), notifier.waitReady(240000)]);
    testCli.env['REFERRAL_INTAKE_URL'] = intake.url;
    admin = adminSession(vault.url, `rem-admin-${SITE}@clinic.ca`, PASSWORD);
    await admin();
    const integration = await cli(['integration', 'create', '--site', SITE, '--name', 'CHR']);
    expect(integration.code).toBe(0);
    apiKey = integration.json['apiKey'] as string;
    await new Promise<void>((resolve) => copies.listen(0, '127.0.0.1', resolve));
    const receiver = await cli(
      [
        'integration',
        'create',
        '--site',
        SITE,
        '--name',
        'Clinic EMR receiving copies',
        '--request-url',
        `http://127.0.0.1:${(copies.address() as AddressInfo).port}/copies`,
        '--outbound-key',
        'copy-key',
        '--send-copies',
      ],
      // The outbound key is sealed by the referral-intake service through the vault service.
    );
    expect(receiver.code).toBe(0);
    receiverKey = receiver.json['apiKey'] as string;
    // The site turns reminders on: 10 minutes before (seconds here), by e-mail, no quiet hours.
    const policy = await fetch(`${scheduler.url}/admin/sites/${SITE}/reminders/policy`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await admin()}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        policy: {
          enabled: true,
          leadMinutes: [10],
          channels: ['email'],
          quietHours: null,
          includeEmrAppointments: false,
          statusNotices: true,
        },
      }),
    });
    expect(policy.status).toBe(200);
    const site = await waitFor(
      'the site to reach the scheduler',
      async () => {
        const r = await fetch(`${scheduler.url}/admin/sites/${SITE}/schedules`, {
          headers: { authorization: `Bearer ${await admin()}` },
        });
        const body = (await r.json()) as Json;
        return (body['schedules'] as unknown[]).length === 2 ? body : null;
      },
      { timeoutMs: 180000 },
    );
    expect((site['schedules'] as Json[]).map((s) => String(s['kind']))).toEqual(['sync-recent', 'sync-full']);
    await post(referral, apiKey);
    db = new Pg({ connectionString: env.DATABASE_URL });
    await db.connect();
  }, 600000);

  afterAll(async () => {
    copies.close();
    for (const p of [notifier, scheduler, intake, vault]) await p?.stop();
    if (db) {
      for (const s of [vaultSchema, intakeSchema, schedSchema, notifierSchema])
        await db.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      await db.end();
    }
  });

  it('books: a French notice at once, then exactly one French reminder before the appointment', async () => {
    const at = new Date(Date.now() + 25 * SECOND);
    await book(`appt-a-${SITE}`, at);
    const notice = await waitFor('the booking notice', async () => (await mails(/Rendez-vous fixé/)).at(0), {
      timeoutMs: 30000,
    });
    expect(notice.text).toContain('Clinique Saint-Laurent');
    expect(notice.text).toContain(aboutTime(at));
    // The referrer hears of the booking once, in French: the clinic, the date and time, nothing else.
    const toReferrer = await waitFor(
      'the referrer notice',
      async () => (await referrerMails(/Rendez-vous fixé pour votre demande/)).at(0),
      { timeoutMs: 30000 },
    );
    expect(toReferrer.text).toContain('Clinique Saint-Laurent');
    expect(toReferrer.text).toContain(aboutTime(at));
    for (const clinical of ['osteoarthritis', 'Orthopedic', 'knee', EMAIL])
      expect(toReferrer.text).not.toContain(clinical);
    const reminder = await waitFor('the reminder', async () => (await mails(/Rappel de rendez-vous/)).at(0), {
      timeoutMs: 40000,
    });
    const arrived = new Date(reminder.receivedAt).getTime();
    expect(arrived).toBeLessThan(at.getTime());
    expect(arrived).toBeGreaterThanOrEqual(at.getTime() - 10 * SECOND - 1000);
    expect(reminder.text).toContain(aboutTime(at));
    expect(reminder.text).toMatch(
      /Pour ne plus recevoir de rappels : http:\/\/\S+\/public\/reminders\/stop\?t=/,
    );
    await sleep(3 * SECOND);
    expect(await mails(/Rappel de rendez-vous/)).toHaveLength(1);
    expect(await reminders(`appt-a-${SITE}`)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'reminder', status: 'sent', leadMinutes: 10 }),
      ]),
    );
  }, 90000);

  it('moved: the old reminder is cancelled and one arrives for the new time; cancelled: none', async () => {
    await inbox.clear();
    const first = new Date(Date.now() + 60 * SECOND);
    const moved = new Date(Date.now() + 30 * SECOND);
    await book(`appt-b-${SITE}`, first);
    await waitFor('the booking notice', async () => (await mails(/Rendez-vous fixé/)).length === 1);
    await book(`appt-b-${SITE}`, moved, 'notify-update-appointment');
    await waitFor('the change notice', async () => (await mails(/Rendez-vous modifié/)).length === 1);
    const listed = await reminders(`appt-b-${SITE}`);
    expect(listed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'reminder',
          status: 'cancelled',
          reason: 'appointment-moved',
          appointmentStart: first.toISOString(),
        }),
        expect.objectContaining({
          kind: 'reminder',
          status: 'scheduled',
          appointmentStart: moved.toISOString(),
        }),
      ]),
    );
    // Booked then cancelled before its reminder: only the two notices.
    const cancelled = new Date(Date.now() + 25 * SECOND);
    await book(`appt-c-${SITE}`, cancelled);
    await book(`appt-c-${SITE}`, cancelled, 'notify-revoke-appointment');
    await waitFor('the cancellation notice', async () => (await mails(/Rendez-vous annulé/)).length === 1);

    const reminder = await waitFor(
      'the moved reminder',
      async () => (await mails(/Rappel de rendez-vous/)).at(0),
      { timeoutMs: 40000 },
    );
    expect(reminder.text).toContain(aboutTime(moved));
    await waitFor('the cancelled appointment to pass', () => Date.now() > cancelled.getTime() + 2 * SECOND, {
      timeoutMs: 40000,
    });
    expect(await mails(/Rappel de rendez-vous/)).toHaveLength(1);
    expect(
      (await reminders(`appt-c-${SITE}`))
        .filter((r) => r['kind'] === 'reminder')
        .map((r) => String(r['status'])),
    ).toEqual(['cancelled']);
  }, 120000);

  it('scheduler and notifier SIGKILLed around the send: the reminder arrives once', async () => {
    await inbox.clear();
    const at = new Date(Date.now() + 22 * SECOND);
    await book(`appt-d-${SITE}`, at);
    await waitFor('the booking notice', async () => (await mails(/Rendez-vous fixé/)).length === 1);
    // Due at at-10s. The notifier dies just before; the scheduler right after handing it over.
    await waitFor('the reminder to be nearly due', () => Date.now() > at.getTime() - 11 * SECOND, {
      timeoutMs: 30000,
    });
    notifier.kill('SIGKILL');
    await notifier.exited();
    await waitFor(
      'the reminder to be handed to the notifier',
      async () =>
        (await reminders(`appt-d-${SITE}`)).some((r) => r['kind'] === 'reminder' && r['status'] === 'sent'),
      { timeoutMs: 30000, intervalMs: 50 },
    );
    scheduler.kill('SIGKILL');
    await scheduler.exited();
    scheduler = start('scheduler', await freePort(), schedulerEnv());
    notifier = start('notifier', await freePort(), notifierEnv());
    await Promise.all([scheduler.waitReady(240000), notifier.waitReady(240000)]);
    const reminder = await waitFor(
      'the reminder after the restarts',
      async () => (await mails(/Rappel de rendez-vous/)).at(0),
      { timeoutMs: 40000 },
    );
    expect(reminder.text).toContain(aboutTime(at));
    await sleep(4 * SECOND);
    expect(await mails(/Rappel de rendez-vous/)).toHaveLength(1);
  }, 150000);

  it('stop link: the patient opts out, and the next reminder is cancelled, not sent', async () => {
    await inbox.clear();
    const at = new Date(Date.now() + 20 * SECOND);
    await book(`appt-e-${SITE}`, at);
    const notice = await waitFor('the booking notice', async () => (await mails(/Rendez-vous fixé/)).at(0));
    const stopUrl = /https?:\/\/\S+\/public\/reminders\/stop\?t=\S+/.exec(notice.text)?.[0] ?? '';
    const link = new URL(stopUrl);
    const local = `${scheduler.url}${link.pathname}${link.search}`;
    expect((await fetch(local)).status).toBe(200);
    const forged = await fetch(`${local.slice(0, -3)}xyz`, { method: 'POST' });
    expect(await forged.text()).toContain('not valid');
    const stopped = await fetch(local, { method: 'POST' });
    expect(await stopped.text()).toContain('no longer receive');
    await waitFor(
      'the reminder to be cancelled for the opt-out',
      async () =>
        (await reminders(`appt-e-${SITE}`)).some(
          (r) => r['kind'] === 'reminder' && r['status'] === 'cancelled' && r['reason'] === 'opted-out',
        ),
      { timeoutMs: 40000 },
    );
    expect(await mails(/Rappel de rendez-vous/)).toHaveLength(0);
  }, 90000);

  it('declined: the referrer gets one French notice, without clinical detail', async () => {
    await inbox.clear();
    const declined = withReferrer(addServiceRequestWithQuirks());
    await post(declined, apiKey);
    // Accepted first: the referrer hears nothing of it; then declined.
    await post(
      statusUpdateFor(declined, {
        taskStatus: 'accepted',
        timestamp: new Date(Date.now() - 1000).toISOString(),
      }),
    );
    await post(statusUpdateFor(declined, { taskStatus: 'rejected' }));
    const notice = await waitFor(
      'the declined notice',
      async () => (await referrerMails(/Demande de consultation refusée/)).at(0),
      { timeoutMs: 30000 },
    );
    expect(notice.text).toContain('Clinique Saint-Laurent a refusé');
    expect(notice.text).not.toContain('osteoarthritis');
    await sleep(2 * SECOND);
    expect(await inbox.list(REFERRER)).toHaveLength(1);
  }, 60000);

  it('keeps the patient e-mail and phone out of every log and of the scheduler and notifier tables', async () => {
    const secrets = [EMAIL, ...PHONES, REFERRER];
    const files = logs;
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const s of secrets) expect({ file, leaked: text.includes(s) }).toEqual({ file, leaked: false });
    }
    for (const [schema, tables] of [
      [schedSchema, ['appointments', 'reminders', 'outbox', 'schedules', 'reminder_opt_outs']],
      [notifierSchema, ['deliveries']],
    ] as const) {
      for (const table of tables) {
        const { rows } = await db.query<{ row: string }>(`SELECT t::text AS row FROM "${schema}".${table} t`);
        for (const r of rows)
          for (const s of secrets)
            expect({ table, leaked: r.row.includes(s) }).toEqual({ table, leaked: false });
      }
    }
    const { rows } = await db.query<{ recipient: string }>(
      `SELECT DISTINCT recipient FROM "${notifierSchema}".deliveries WHERE template NOT LIKE 'sek.%'`,
    );
    expect(rows.map((r) => r.recipient).sort()).toEqual(['patient', 'referrer']);
  });
});
