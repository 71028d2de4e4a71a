// Durable schedules against the real stack: two scheduler replicas (real processes) share one
// Postgres schema; every slot of a site's recent-sync schedule fires exactly once (one
// `sync.requested` on Kafka per slot), a SIGKILLed replica's work is taken over by the other, and
// a restart after missed slots runs one catch-up, not one per missed slot.
import { Events, PRODUCT_EVENTS } from '@cloud-connect/contracts';
import { createKafka, EventPublisher, EventRegistry } from '@cloud-connect/kafka';
import {
  freePort,
  readTopic,
  ServiceProcess,
  serviceEnvFor,
  sleep,
  stackEnv,
  uniqueName,
  waitFor,
} from '@cloud-connect/testing';
import { Client as Pg } from 'pg';

const env = stackEnv();
const schema = uniqueName('sched');
const SITE = String(430000000 + Math.floor(Math.random() * 9999999));
const INTERVAL_MS = 2000;
const registry = new EventRegistry(PRODUCT_EVENTS);

interface Fired {
  scheduledFor: string;
  occurredAt: string;
  requestedBy: string;
  nextRecentAt?: string;
  nextFullAt?: string;
}

describe('durable schedules (two scheduler replicas, real Postgres and Kafka)', () => {
  const kafka = createKafka({ brokers: env.KAFKA_BROKERS.split(','), clientId: 'schedules-it' });
  let publisher: EventPublisher;
  let db: Pg;
  const replicas: ServiceProcess[] = [];

  const replica = async (): Promise<ServiceProcess> => {
    const p = new ServiceProcess(
      'scheduler',
      await freePort(),
      serviceEnvFor('scheduler', env, {
        DATABASE_SCHEMA: schema,
        SYNC_RECENT_INTERVAL_MS: String(INTERVAL_MS),
        SCHEDULER_TICK_MS: '100',
        SHUTDOWN_GRACE_MS: '5000',
      }),
    ).start();
    replicas.push(p);
    return p;
  };

  async function fired(expected: number): Promise<Fired[]> {
    const messages = await readTopic(kafka, 'sync.requested', { expected, timeoutMs: 20000, settleMs: 1500 });
    return messages
      .filter((m) => m.key === SITE)
      .map((m) => JSON.parse(m.value) as { occurredAt: string; payload: Omit<Fired, 'occurredAt'> })
      .map((e) => ({ ...e.payload, occurredAt: e.occurredAt }))
      .filter((e) => e.requestedBy === 'scheduler:sync-recent');
  }

  const runs = async (): Promise<number> =>
    Number(
      (
        await db.query<{ runs: string }>(
          `SELECT runs FROM "${schema}".schedules WHERE site_number = $1 AND kind = 'sync-recent'`,
          [SITE],
        )
      ).rows[0]?.runs ?? 0,
    );

  beforeAll(async () => {
    db = new Pg({ connectionString: env.DATABASE_URL });
    await db.connect();
    publisher = new EventPublisher(kafka, registry, 'vault');
    await publisher.connect();
    const [a, b] = [await replica(), await replica()];
    await Promise.all([a.waitReady(240000), b.waitReady(240000)]);
    await publisher.publish(
      registry.create(Events.siteRegistered, SITE, {
        siteNumber: SITE,
        name: 'Schedules clinic',
        locale: 'en',
        timezone: 'America/Toronto',
        adminEmail: 'owner@clinic.ca',
        clinicalAdminEmail: null,
      }),
    );
  }, 480000);

  afterAll(async () => {
    for (const p of replicas) await p.stop();
    await publisher?.disconnect();
    if (db) {
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.end();
    }
  });

  it('fires each slot once across two replicas, survives a SIGKILL, and catches up once after downtime', async () => {
    // Two replicas ticking every 100 ms, a 2 s interval.
    await waitFor('five recent-sync slots', async () => (await runs()) >= 5, { timeoutMs: 30000 });
    const [a, b] = replicas as [ServiceProcess, ServiceProcess];

    // One replica dies without warning; the other keeps the clock.
    a.kill('SIGKILL');
    await a.exited(10000);
    const afterKill = await runs();
    await waitFor('the survivor to fire two more slots', async () => (await runs()) >= afterKill + 2, {
      timeoutMs: 15000,
    });

    // Both down for three intervals: three slots missed.
    await b.stop();
    const downAt = Date.now();
    await sleep(3 * INTERVAL_MS + 500);
    const restartedAt = new Date();
    const c = await replica();
    await c.waitReady(240000);
    await sleep(INTERVAL_MS / 2);

    const counted = await runs();
    const events = await fired(counted);
    const slots = events.map((e) => e.scheduledFor);
    // Exactly once per slot (a slot fired twice would repeat its scheduledFor), none missing.
    expect(new Set(slots).size).toBe(slots.length);
    expect(slots.length).toBeGreaterThanOrEqual(counted);
    // Missed while down: one catch-up run after the restart, for the slot that was due.
    const catchUps = events.filter(
      (e) =>
        new Date(e.occurredAt) >= restartedAt && new Date(e.scheduledFor).getTime() < restartedAt.getTime(),
    );
    expect(catchUps).toHaveLength(1);
    expect(new Date(catchUps[0]?.scheduledFor ?? 0).getTime()).toBeLessThan(downAt + INTERVAL_MS);
    // Every request tells the EMR gateway the schedules' next slots (its status shows them).
    for (const e of events) {
      expect(new Date(e.nextRecentAt ?? 0).getTime()).toBeGreaterThan(new Date(e.scheduledFor).getTime());
      expect(e.nextFullAt).toEqual(expect.any(String));
    }
    // The nightly full sync waits for local midnight in the site's zone.
    const full = await db.query<{ next: Date }>(
      `SELECT next_run_at AS next FROM "${schema}".schedules WHERE site_number = $1 AND kind = 'sync-full'`,
      [SITE],
    );
    const local = new Intl.DateTimeFormat('en-CA', {
      timeZone: 'America/Toronto',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(full.rows[0]?.next);
    expect(local).toBe('00:00');
  }, 120000);
});
