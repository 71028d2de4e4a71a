// The notifier as a real process: notification.requested from Kafka, e-mail read back from the
// real SMTP sink, SMS through the HTTP SMS API simulator, the delivery log, retries, dead letters
// and replay, and no second send for a redelivered request.
import { Events, PRODUCT_EVENTS } from '@cloud-connect/contracts';
import { createKafka, EventPublisher, EventRegistry, type Envelope } from '@cloud-connect/kafka';
import {
  distDir,
  freePort,
  MailInbox,
  ServiceProcess,
  serviceEnvFor,
  sleep,
  stackEnv,
  uniqueName,
  waitFor,
} from '@cloud-connect/testing';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { SmsSimulator } from './sms-simulator';

const env = stackEnv();
const schema = uniqueName('t_notifier');
const registry = new EventRegistry(PRODUCT_EVENTS);
const kafka = createKafka({ brokers: env.KAFKA_BROKERS.split(','), clientId: 'notifier-test' });
const inbox = new MailInbox(env.MAIL_API_URL);
const SMS_KEY = 'sms-test-key-0123456789';

function cli(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(distDir(), 'tools', 'cli', 'src', 'main.js'), ...args],
      { env: { PATH: process.env['PATH'] ?? '', KAFKA_BROKERS: env.KAFKA_BROKERS }, timeout: 60000 },
      (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
    );
  });
}

describe('notifier (real Kafka, Postgres, SMTP; SMS API simulator)', () => {
  let notifier: ServiceProcess;
  let publisher: EventPublisher;
  let db: Client;
  const sms = new SmsSimulator(SMS_KEY);
  const site = String(700000000 + Math.floor(Math.random() * 99999999));

  beforeAll(async () => {
    await sms.start();
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    notifier = new ServiceProcess(
      'notifier',
      await freePort(),
      serviceEnvFor('notifier', env, {
        DATABASE_SCHEMA: schema,
        SMS_API_URL: sms.url,
        SMS_API_KEY: SMS_KEY,
        NOTIFY_MAX_ATTEMPTS: '3',
        NOTIFY_RETRY_BASE_MS: '200',
        NOTIFY_RETRY_MAX_MS: '1000',
      }),
    ).start();
    await notifier.waitReady(90000);
    publisher = new EventPublisher(kafka, registry, 'vault');
    await publisher.connect();
    // The site directory reaches the notifier like any service: site.registered.
    await publisher.publish(
      registry.create(Events.siteRegistered, site, {
        siteNumber: site,
        name: 'Clinique des Tests',
        locale: 'fr',
        timezone: 'America/Montreal',
        adminEmail: `creator-${site}@test.ca`,
        clinicalAdminEmail: null,
      }),
    );
  });

  afterAll(async () => {
    await publisher?.disconnect();
    await notifier?.stop();
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
    await sms.stop();
  });

  async function delivery(notificationId: string): Promise<Record<string, unknown> | undefined> {
    const { rows } = await db.query(`SELECT * FROM "${schema}".deliveries WHERE notification_id = $1`, [
      notificationId,
    ]);
    return rows[0] as Record<string, unknown> | undefined;
  }

  function request(overrides: Record<string, unknown> = {}): Envelope {
    return registry.create(Events.notificationRequested, site, {
      notificationId: randomUUID(),
      channel: 'email',
      template: 'sek.accessed',
      locale: 'fr',
      recipient: 'site-clinical-admin',
      params: {
        siteNumber: site,
        siteName: 'Clinique des Tests',
        actor: 'marie@test.ca',
        action: 'view',
        outcome: 'allowed',
        at: new Date().toISOString(),
        from: '203.0.113.9',
      },
      ...overrides,
    } as never);
  }

  it('e-mails the site creator in French when there is no clinical administrator, exactly once', async () => {
    const envelope = request();
    const to = `creator-${site}@test.ca`;
    await publisher.publish(envelope);
    const mails = await waitFor('the alert e-mail', async () => {
      const found = await inbox.list(to);
      return found.length > 0 ? found : null;
    });
    expect(mails[0]?.subject).toContain('Accès à la clé de chiffrement partagée');
    expect(mails[0]?.text).toContain('Qui : marie@test.ca');
    // Redelivery of the same envelope, and a new envelope for the same notification.
    const notificationId = (envelope.payload as { notificationId: string }).notificationId;
    await publisher.publish(envelope);
    await publisher.publish({ ...envelope, id: randomUUID() });
    await sleep(3000);
    expect(await inbox.list(to)).toHaveLength(1);
    expect(await delivery(notificationId)).toMatchObject({ status: 'sent', attempts: 1, channel: 'email' });
  });

  it("delivers the EMR gateway's alerts (the template set it uses) to the same recipient", async () => {
    const to = `creator-${site}@test.ca`;
    const before = (await inbox.list(to)).length;
    await publisher.publish(
      request({
        template: 'emr-command-dead-lettered',
        locale: 'en',
        params: {
          siteNumber: site,
          emr: 'OSCAR Pro',
          kind: 'save-progress-note',
          commandId: 'cmd-1',
          reason: 'retry horizon passed',
        },
      }),
    );
    const mail = await waitFor('the EMR alert', async () => {
      const found = await inbox.list(to);
      return found.length > before ? (found.find((m) => m.subject.includes('OSCAR Pro')) ?? null) : null;
    });
    expect(mail.subject).toContain('A delivery to OSCAR Pro was set aside');
    expect(mail.text).toContain(`cloud-connect emr replay --site ${site} --command cmd-1`);
  });

  it('retries an SMS with backoff until the SMS API accepts it, logging each attempt', async () => {
    sms.failNext(2, 503);
    const envelope = request({
      channel: 'sms',
      recipient: '+15145550111',
      template: 'reminder.appointment',
      locale: 'en',
      params: { siteName: 'Clinic', at: new Date().toISOString() },
    });
    const notificationId = (envelope.payload as { notificationId: string }).notificationId;
    await publisher.publish(envelope);
    const row = await waitFor('the SMS to be sent', async () => {
      const found = await delivery(notificationId);
      return found?.['status'] === 'sent' ? found : null;
    });
    expect(row['attempts']).toBe(3);
    expect(sms.delivered.filter((m) => m.idempotencyKey === notificationId)).toHaveLength(1);
    expect(sms.delivered.find((m) => m.idempotencyKey === notificationId)?.text).toContain('Reminder');
  });

  it('dead-letters after the last attempt, and a replay delivers it once the provider is back', async () => {
    sms.failNext(3, 503);
    const envelope = request({
      channel: 'sms',
      recipient: '+15145550222',
      template: 'reminder.appointment',
      locale: 'fr',
      params: { siteName: 'Clinique', at: new Date().toISOString() },
    });
    const notificationId = (envelope.payload as { notificationId: string }).notificationId;
    await publisher.publish(envelope);
    await waitFor(
      'the delivery to be dead-lettered',
      async () => (await delivery(notificationId))?.['status'] === 'dead-lettered',
      { timeoutMs: 30000 },
    );
    expect((await delivery(notificationId))?.['attempts']).toBe(3);

    // The operator's replay, through the CLI.
    await waitFor(
      'the dead letter to be listed and replayed',
      async () => {
        const listed = await cli(['notifications', 'dead-letters', '--replay']);
        const body = JSON.parse(listed.stdout) as { deadLetters: { envelopeId: string | null }[] };
        return listed.code === 0 && body.deadLetters.some((l) => l.envelopeId === envelope.id);
      },
      { timeoutMs: 60000, intervalMs: 1000 },
    );
    await waitFor(
      'the replayed SMS to be sent',
      async () => (await delivery(notificationId))?.['status'] === 'sent',
      { timeoutMs: 30000 },
    );
    expect(sms.delivered.filter((m) => m.idempotencyKey === notificationId)).toHaveLength(1);
  });

  it('sends a bad request straight to the dead-letter topic without retrying', async () => {
    const envelope = request({ channel: 'sms', recipient: 'not-a-number' });
    const notificationId = (envelope.payload as { notificationId: string }).notificationId;
    const before = sms.requests;
    await publisher.publish(envelope);
    await waitFor(
      'the delivery to be dead-lettered',
      async () => (await delivery(notificationId))?.['status'] === 'dead-lettered',
    );
    expect(await delivery(notificationId)).toMatchObject({
      attempts: 1,
      last_error: expect.stringContaining('E.164'),
    });
    expect(sms.requests).toBe(before);
  });
});
