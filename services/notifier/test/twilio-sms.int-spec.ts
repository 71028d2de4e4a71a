// SMS through Twilio's Messages API against the Twilio-compatible simulator (tools/sms-simulator,
// a real HTTP server on loopback): the notifier sends with HTTP Basic and form parameters, takes
// the signed delivery receipts onto its delivery log, and honours STOP (recorded from the signed
// inbound webhook, as an HMAC of the number): the next SMS to that number is not sent.
import { Events, PRODUCT_EVENTS } from '@cloud-connect/contracts';
import { createKafka, EventPublisher, EventRegistry } from '@cloud-connect/kafka';
import {
  freePort,
  ServiceProcess,
  serviceEnvFor,
  stackEnv,
  uniqueName,
  waitFor,
} from '@cloud-connect/testing';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { TwilioSimulator } from '../../../tools/sms-simulator/src';

const env = stackEnv();
const schema = uniqueName('t_twilio');
const registry = new EventRegistry(PRODUCT_EVENTS);
const kafka = createKafka({ brokers: env.KAFKA_BROKERS.split(','), clientId: 'twilio-test' });
const site = String(710000000 + Math.floor(Math.random() * 9999999));
const PHONE = '+15145550177';
const OTHER = '+15145550188';

describe('SMS through the Twilio Messages API (simulator), delivery receipts and STOP', () => {
  let notifier: ServiceProcess;
  let publisher: EventPublisher;
  let db: Client;
  let sim: TwilioSimulator;

  const send = async (to: string): Promise<string> => {
    const notificationId = randomUUID();
    await publisher.publish(
      registry.create(Events.notificationRequested, site, {
        notificationId,
        channel: 'sms',
        template: 'reminder.appointment',
        locale: 'en',
        recipient: to,
        params: { siteName: 'Clinic', at: new Date(Date.now() + 86400000).toISOString() },
      }),
    );
    return notificationId;
  };
  const delivery = async (id: string): Promise<Record<string, unknown> | undefined> =>
    (await db.query(`SELECT * FROM "${schema}".deliveries WHERE notification_id = $1`, [id])).rows[0] as
      Record<string, unknown> | undefined;

  beforeAll(async () => {
    const port = await freePort();
    sim = new TwilioSimulator({
      accountSid: `AC${'1'.repeat(32)}`,
      authToken: 'twilio-test-auth-token',
      number: '+15005550006',
      inboundWebhook: `http://127.0.0.1:${port}/public/sms/twilio/inbound`,
      callbackDelayMs: 50,
    });
    await sim.start();
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    notifier = new ServiceProcess(
      'notifier',
      port,
      serviceEnvFor('notifier', env, {
        DATABASE_SCHEMA: schema,
        SMS_PROVIDER: 'twilio',
        TWILIO_API_URL: sim.url,
        TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`,
        TWILIO_AUTH_TOKEN: 'twilio-test-auth-token',
        TWILIO_FROM: '+15005550006',
        NOTIFIER_PUBLIC_URL: `http://127.0.0.1:${port}`,
        NOTIFY_MAX_ATTEMPTS: '3',
        NOTIFY_RETRY_BASE_MS: '200',
        NOTIFY_RETRY_MAX_MS: '1000',
      }),
    ).start();
    await notifier.waitReady(240000);
    publisher = new EventPublisher(kafka, registry, 'vault');
    await publisher.connect();
  }, 300000);

  afterAll(async () => {
    await publisher?.disconnect();
    await notifier?.stop();
    await db?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db?.end();
    await sim?.stop();
  });

  it('sends through the Messages API and records the signed delivery receipt', async () => {
    const id = await send(PHONE);
    const row = await waitFor(
      'the delivery receipt',
      async () => {
        const d = await delivery(id);
        return d?.['provider_status'] === 'delivered' ? d : null;
      },
      { timeoutMs: 60000 },
    );
    expect(row['status']).toBe('sent');
    const message = sim.messages.find((m) => m.sid === row['provider_id']);
    expect(message).toMatchObject({ to: PHONE, from: '+15005550006', status: 'delivered' });
    expect(message?.body).toContain('To stop reminders, reply STOP.');
    // A receipt without a valid signature changes nothing.
    const forged = await fetch(`${notifier.url}/public/sms/twilio/status?site=${site}&n=${id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'AAAA' },
      body: 'MessageStatus=failed',
    });
    expect(forged.status).toBe(403);
    expect((await delivery(id))?.['provider_status']).toBe('delivered');
  }, 90000);

  it('takes STOP: no further SMS to that number, and other numbers still get theirs', async () => {
    expect(await sim.inbound(PHONE, 'STOP')).toBe(200);
    const stopped = await send(PHONE);
    const other = await send(OTHER);
    const row = await waitFor(
      'the SMS to the stopped number to be dead-lettered',
      async () => {
        const d = await delivery(stopped);
        return d?.['status'] === 'dead-lettered' ? d : null;
      },
      { timeoutMs: 60000 },
    );
    expect(row['last_error']).toMatch(/replied STOP/);
    expect(sim.messages.filter((m) => m.to === PHONE)).toHaveLength(1);
    await waitFor('the other SMS', async () => (await delivery(other))?.['status'] === 'sent', {
      timeoutMs: 60000,
    });
    // The number is kept only as an HMAC; nothing in the logs either.
    const { rows } = await db.query(`SELECT t::text AS row FROM "${schema}".sms_opt_outs t`);
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain('5145550177');
    expect(readFileSync(notifier.logFile, 'utf8')).not.toContain('5145550177');
  }, 90000);
});
