import {
  createServiceDataSource,
  MessagingTables1732300000000,
  migrateSchema,
  PostgresIdempotencyStore,
} from '@cloud-connect/db';
import { stackEnv, uniqueName, waitFor } from '@cloud-connect/testing';
import type { DataSource, EntityManager } from 'typeorm';
import { z } from 'zod';
import {
  createKafka,
  defineEvent,
  ensureTopics,
  EventPublisher,
  EventRegistry,
  processDeadLetters,
  ReliableConsumer,
  retryTopicsOf,
  type ConsumeOutcome,
  type Envelope,
} from '@cloud-connect/kafka';

const env = stackEnv();
const quiet = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};
const kafka = createKafka({ brokers: env.KAFKA_BROKERS.split(','), clientId: 'consumer-test' });

describe('reliable consumer (real Kafka and Postgres)', () => {
  let dataSource: DataSource;
  let schema: string;
  let topic: string;
  let registry: EventRegistry;
  let publisher: EventPublisher;
  let consumer: ReliableConsumer<EntityManager>;
  let event: ReturnType<typeof defineEvent<z.ZodObject<{ label: z.ZodString }>>>;
  const attempts = new Map<string, number>();
  const outcomes: ConsumeOutcome[] = [];
  let failing = new Set<string>();

  beforeAll(async () => {
    schema = uniqueName('consumer');
    topic = uniqueName('test.consumer');
    event = defineEvent('test.consumer', 1, topic, z.object({ label: z.string() }));
    registry = new EventRegistry([event]);
    dataSource = createServiceDataSource({
      url: env.DATABASE_URL,
      schema,
      applicationName: 'consumer-test',
      migrations: [MessagingTables1732300000000],
    });
    await dataSource.initialize();
    await migrateSchema(dataSource);
    await dataSource.query(
      `CREATE TABLE "${schema}".effects (envelope_id uuid NOT NULL, label text NOT NULL)`,
    );
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [
      { name: topic, partitions: 2 },
      ...retryTopicsOf(topic).map((name) => ({ name, partitions: 2 })),
      { name: `${topic}.dlq`, partitions: 1 },
    ]);
    await admin.disconnect();
    publisher = new EventPublisher(kafka, registry);
    await publisher.connect();
    consumer = new ReliableConsumer<EntityManager>({
      kafka,
      groupId: uniqueName('group'),
      topics: [topic],
      registry,
      store: new PostgresIdempotencyStore(dataSource, schema),
      publisher,
      logger: quiet,
      retry: { maxAttempts: 3, delayMs: () => 300 },
      onOutcome: (outcome) => outcomes.push(outcome),
      handler: async (envelope: Envelope, { tx, attempt }) => {
        attempts.set(envelope.id, attempt);
        const { label } = event.schema.parse(envelope.payload);
        await tx.query(`INSERT INTO "${schema}".effects (envelope_id, label) VALUES ($1, $2)`, [
          envelope.id,
          label,
        ]);
        if (failing.has(label)) throw new Error(`handler refuses ${label}`);
      },
    });
    await consumer.start();
  });

  afterAll(async () => {
    await consumer.stop();
    await publisher.disconnect();
    await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
    await dataSource.destroy();
  });

  async function effectsOf(id: string): Promise<number> {
    const rows: { n: string }[] = await dataSource.query(
      `SELECT count(*) AS n FROM "${schema}".effects WHERE envelope_id = $1`,
      [id],
    );
    return Number(rows[0]?.n);
  }

  it('makes the effect once and commits it with the dedupe record', async () => {
    const envelope = registry.create(event, '1000', { label: 'ok' });
    await publisher.publish(envelope);
    await waitFor('effect', async () => (await effectsOf(envelope.id)) === 1);
    expect(attempts.get(envelope.id)).toBe(1);
  });

  it('does not process a redelivered envelope twice', async () => {
    const envelope = registry.create(event, '1000', { label: 'twice' });
    const before = outcomes.filter((o) => o === 'duplicate').length;
    await publisher.publish(envelope);
    await publisher.publish(envelope);
    await waitFor('duplicate detected', () => outcomes.filter((o) => o === 'duplicate').length > before);
    expect(await effectsOf(envelope.id)).toBe(1);
  });

  it('retries through the retry topic, dead-letters after the last attempt, and replay puts it back', async () => {
    failing = new Set(['poison']);
    const envelope = registry.create(event, '1000', { label: 'poison' });
    await publisher.publish(envelope);
    await waitFor('dead-lettered', () => outcomes.includes('dead-lettered'), { timeoutMs: 30000 });
    expect(attempts.get(envelope.id)).toBe(3);
    expect(outcomes.filter((o) => o === 'retry-scheduled')).toHaveLength(2);
    // Every failed attempt rolled back: no effect, no dedupe record.
    expect(await effectsOf(envelope.id)).toBe(0);

    const listed = await processDeadLetters({ kafka, topic, replay: false, timeoutMs: 20000 });
    expect(listed.letters).toEqual([
      expect.objectContaining({
        envelopeId: envelope.id,
        attempts: 3,
        originalTopic: topic,
        // Category, code and error id only: never the handler's own error text.
        lastError: expect.stringMatching(/^internal\/Error \(error id [0-9a-f-]{36}\)$/),
      }),
    ]);

    failing = new Set();
    const replay = await processDeadLetters({ kafka, topic, publisher, replay: true, timeoutMs: 20000 });
    expect(replay.result).toEqual({ topic, replayed: 1, remaining: 0 });
    await waitFor('replayed envelope processed', async () => (await effectsOf(envelope.id)) === 1, {
      timeoutMs: 30000,
    });
    expect(attempts.get(envelope.id)).toBe(1);

    // Replaying again finds nothing new: the replay group remembers.
    const again = await processDeadLetters({ kafka, topic, publisher, replay: true, timeoutMs: 10000 });
    expect(again.result.replayed).toBe(0);
  });

  it('sends an envelope that breaks the contract straight to the dead-letter topic', async () => {
    const before = outcomes.filter((o) => o === 'dead-lettered').length;
    await publisher.forward(topic, { key: '1000', value: '{"id":"not-a-uuid"}', headers: {} });
    await waitFor(
      'invalid envelope dead-lettered',
      () => outcomes.filter((o) => o === 'dead-lettered').length > before,
    );
    const listed = await processDeadLetters({ kafka, topic, replay: false, timeoutMs: 20000 });
    expect(listed.letters.some((l) => l.lastError.startsWith('validation/invalid-envelope (error id '))).toBe(
      true,
    );
  });
});

describe('retry tiers (real Kafka and Postgres)', () => {
  let dataSource: DataSource;
  let schema: string;
  let topic: string;
  let registry: EventRegistry;
  let publisher: EventPublisher;
  let consumer: ReliableConsumer<EntityManager>;
  let event: ReturnType<typeof defineEvent<z.ZodObject<{ label: z.ZodString }>>>;
  const handled = new Map<string, number>();
  const failures = new Map<string, number>();

  beforeAll(async () => {
    schema = uniqueName('tiers');
    topic = uniqueName('test.tiers');
    event = defineEvent('test.tiers', 1, topic, z.object({ label: z.string() }));
    registry = new EventRegistry([event]);
    dataSource = createServiceDataSource({
      url: env.DATABASE_URL,
      schema,
      applicationName: 'tiers-test',
      migrations: [MessagingTables1732300000000],
    });
    await dataSource.initialize();
    await migrateSchema(dataSource);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [
      { name: topic, partitions: 1 },
      ...retryTopicsOf(topic).map((name) => ({ name, partitions: 1 })),
      { name: `${topic}.dlq`, partitions: 1 },
    ]);
    await admin.disconnect();
    publisher = new EventPublisher(kafka, registry);
    await publisher.connect();
    consumer = new ReliableConsumer<EntityManager>({
      kafka,
      groupId: uniqueName('group'),
      topics: [topic],
      registry,
      store: new PostgresIdempotencyStore(dataSource, schema),
      publisher,
      logger: quiet,
      // 200 ms is waited in place, 3 s pauses the partition, and a minute would block everything
      // behind it if retries shared one queue.
      retry: { maxAttempts: 5, delayMs: (attempt) => [200, 3000][attempt - 1] ?? 60_000 },
      handler: (envelope: Envelope, { attempt }) => {
        const { label } = event.schema.parse(envelope.payload);
        const failsUntil = ({ slow: Infinity, late: 3, quick: 2 } as Record<string, number>)[label] ?? 1;
        if (attempt < failsUntil) {
          failures.set(label, attempt);
          return Promise.reject(new Error(`${label} fails at attempt ${attempt}`));
        }
        handled.set(label, attempt);
        return Promise.resolve();
      },
    });
    await consumer.start();
  });

  afterAll(async () => {
    await consumer.stop();
    await publisher.disconnect();
    await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
    await dataSource.destroy();
  });

  it('lets short retries and fresh messages pass a message waiting out a long backoff', async () => {
    await publisher.publish(registry.create(event, '1000', { label: 'slow' }));
    // 'slow' fails three times, then waits a minute in the one-minute tier for its fourth attempt.
    await waitFor('slow failed three times', () => failures.get('slow') === 3, { timeoutMs: 20000 });
    await publisher.publish(registry.create(event, '1000', { label: 'quick' }));
    await publisher.publish(registry.create(event, '1000', { label: 'late' }));
    await publisher.publish(registry.create(event, '1000', { label: 'fresh' }));
    await waitFor('fresh handled', () => handled.has('fresh'), { timeoutMs: 20000 });
    await waitFor('quick handled on its second attempt', () => handled.get('quick') === 2, {
      timeoutMs: 20000,
    });
    // 'late' was due 3 s after its second failure: its partition paused, then resumed at it.
    await waitFor('late handled on its third attempt', () => handled.get('late') === 3, { timeoutMs: 20000 });
    expect(handled.has('slow')).toBe(false);
    expect(failures.get('slow')).toBe(3);
  });
});
