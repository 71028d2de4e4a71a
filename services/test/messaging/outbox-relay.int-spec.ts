import { createKafka, defineEvent, ensureTopics, EventRegistry, type Envelope } from '@cloud-connect/kafka';
import { distDir, readTopic, stackEnv, uniqueName, waitFor } from '@cloud-connect/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import {
  createServiceDataSource,
  MessagingTables1732300000000,
  migrateSchema,
  OutboxRelay,
  OutboxWriter,
} from '@cloud-connect/db';

const env = stackEnv();
const quiet = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};
const kafka = createKafka({ brokers: env.KAFKA_BROKERS.split(','), clientId: 'outbox-test' });

describe('transactional outbox and relay (real Postgres and Kafka)', () => {
  let dataSource: DataSource;
  let schema: string;
  let topic: string;
  let registry: EventRegistry;
  let writer: OutboxWriter;
  let event: ReturnType<typeof defineEvent<z.ZodObject<{ n: z.ZodNumber }>>>;

  beforeEach(async () => {
    schema = uniqueName('outbox');
    topic = uniqueName('test.outbox');
    event = defineEvent('test.outbox', 1, topic, z.object({ n: z.number() }));
    registry = new EventRegistry([event]);
    dataSource = createServiceDataSource({
      url: env.DATABASE_URL,
      schema,
      applicationName: 'outbox-test',
      migrations: [MessagingTables1732300000000],
    });
    await dataSource.initialize();
    await migrateSchema(dataSource);
    writer = new OutboxWriter(registry, schema);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ name: topic, partitions: 1 }]);
    await admin.disconnect();
  });

  afterEach(async () => {
    await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
    await dataSource.destroy();
  });

  async function writeEvents(count: number, from = 0): Promise<Envelope[]> {
    const envelopes = Array.from({ length: count }, (_, i) =>
      registry.create(event, '1000', { n: from + i }),
    );
    await dataSource.transaction((tx) => writer.enqueueAll(tx, envelopes));
    return envelopes;
  }

  function relay(extra: Partial<ConstructorParameters<typeof OutboxRelay>[0]> = {}): OutboxRelay {
    return new OutboxRelay({
      dataSource,
      schema,
      kafka,
      logger: quiet,
      batchSize: 10,
      pollIntervalMs: 50,
      ...extra,
    });
  }

  async function pending(): Promise<number> {
    const rows: { n: string }[] = await dataSource.query(
      `SELECT count(*) AS n FROM "${schema}".outbox WHERE published_at IS NULL`,
    );
    return Number(rows[0]?.n);
  }

  function idsOf(messages: { value: string }[]): string[] {
    return messages.map((m) => (JSON.parse(m.value) as Envelope).id);
  }

  it('publishes a committed transaction exactly once, in order, and a rolled-back one never', async () => {
    const committed = await writeEvents(25);
    await expect(
      dataSource.transaction(async (tx) => {
        await writer.enqueue(tx, registry.create(event, '1000', { n: -1 }));
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');

    const r = relay();
    r.start();
    await waitFor('outbox drained', async () => (await pending()) === 0, { timeoutMs: 30000 });
    await r.stop();

    const messages = await readTopic(kafka, topic, { expected: 25 });
    expect(idsOf(messages)).toEqual(committed.map((e) => e.id));
    expect(messages[0]?.key).toBe('1000');
    expect(messages[0]?.headers['cc-event-type']).toBe('test.outbox@1');
  });

  it('an idle relay sleeps; a commit by another process wakes it through NOTIFY (no polling)', async () => {
    const r = relay({ pollIntervalMs: 60000, idlePollMs: 60000 });
    r.start();
    await waitFor('relay leader', () => Promise.resolve(r.isLeader), { timeoutMs: 30000 });
    await new Promise((done) => setTimeout(done, 300));
    const idleFrom = r.passes;
    await new Promise((done) => setTimeout(done, 1500));
    expect(r.passes - idleFrom).toBe(0);
    // Another data source (as another replica would): no in-process wake().
    const other = createServiceDataSource({
      url: env.DATABASE_URL,
      schema,
      applicationName: 'outbox-writer',
    });
    await other.initialize();
    try {
      const envelopes = Array.from({ length: 3 }, (_, i) => registry.create(event, '1000', { n: i }));
      const started = Date.now();
      await other.transaction((tx) => new OutboxWriter(registry, schema).enqueueAll(tx, envelopes));
      await waitFor('woken and published', async () => (await pending()) === 0, {
        timeoutMs: 10000,
        intervalMs: 20,
      });
      expect(Date.now() - started).toBeLessThan(10000);
      const messages = await readTopic(kafka, topic, { expected: 3 });
      expect(idsOf(messages)).toEqual(envelopes.map((e) => e.id));
    } finally {
      await other.destroy();
      await r.stop();
    }
  });

  it('does not duplicate when the relay dies after each Kafka commit, before marking rows', async () => {
    const written = await writeEvents(30);
    let crashes = 0;
    // Every batch "crashes" right after its Kafka commit; only recovery from the checkpoint
    // (on the next leadership) can mark it published without sending it again.
    const crashing = relay({
      afterKafkaCommit: () => {
        crashes += 1;
        return Promise.reject(new Error('simulated crash after Kafka commit'));
      },
    });
    crashing.start();
    await waitFor('outbox drained through recovery', async () => (await pending()) === 0, {
      timeoutMs: 60000,
    });
    await crashing.stop();

    expect(crashes).toBeGreaterThanOrEqual(3);
    const ids = idsOf(await readTopic(kafka, topic, { expected: 30 }));
    expect(ids).toEqual(written.map((e) => e.id));
  });

  it('loses and duplicates nothing when a relay process is SIGKILLed mid-way and restarted', async () => {
    const written = [...(await writeEvents(300)), ...(await writeEvents(300, 300))];
    const worker = join(distDir(), 'libs', 'testing', 'src', 'fixtures', 'outbox-relay-worker.js');
    const start = (): ChildProcess =>
      spawn(process.execPath, [worker], {
        env: {
          ...process.env,
          DATABASE_URL: env.DATABASE_URL,
          KAFKA_BROKERS: env.KAFKA_BROKERS,
          OUTBOX_SCHEMA: schema,
          OUTBOX_BATCH: '7',
        },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    let kills = 0;
    for (let round = 0; round < 3; round += 1) {
      const child = start();
      let published = 0;
      child.stdout?.on('data', (chunk: Buffer) => {
        published += (chunk.toString().match(/published/g) ?? []).length;
      });
      // Kill after it has published a few batches, i.e. in the middle of the work.
      await waitFor('some batches published', () => published >= 3 + round * 2, {
        timeoutMs: 30000,
        intervalMs: 10,
      });
      child.kill('SIGKILL');
      kills += 1;
      await new Promise((resolve) => child.once('exit', resolve));
    }
    expect(await pending()).toBeGreaterThan(0);
    const last = start();
    await waitFor('outbox drained', async () => (await pending()) === 0, { timeoutMs: 60000 });
    last.kill('SIGTERM');

    const ids = idsOf(await readTopic(kafka, topic, { expected: 600, timeoutMs: 90000 }));
    expect(kills).toBe(3);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(written.map((e) => e.id));
  });
});
