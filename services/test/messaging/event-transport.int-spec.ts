import { PostgresIdempotencyStore } from '@cloud-connect/db';
import { consumerDisposition, DomainError, type ErrorKind } from '@cloud-connect/errors';
import {
  consumerGroup,
  createKafka,
  defineEvent,
  EventConsumer,
  EventPublisher,
  EventRegistry,
  KafkaEventTransport,
  processDeadLetters,
  type ConsumeOutcome,
  type EnvelopeContext,
  type EventEnvelope,
} from '@cloud-connect/kafka';
import {
  createTopicsWithTiers,
  messagingSchema,
  silentLogger,
  stackEnv,
  uniqueName,
  waitFor,
} from '@cloud-connect/testing';
import { Module, type INestMicroservice, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { DataSource, EntityManager } from 'typeorm';
import { z } from 'zod';

const env = stackEnv();
const kafka = createKafka({ brokers: env.KAFKA_BROKERS.split(','), clientId: 'transport-test' });

const ordersTopic = uniqueName('test.transport.orders');
const notesTopic = uniqueName('test.transport.notes');
const Ordered = defineEvent(
  'test.order.placed',
  1,
  ordersTopic,
  z.object({ label: z.string(), quantity: z.coerce.number().int().default(1) }),
);
const Noted = defineEvent('test.note.added', 1, notesTopic, z.object({ label: z.string() }));
const registry = new EventRegistry([Ordered, Noted]);

type Code = 'busy' | 'bad-data' | 'gone';
class SampleError extends DomainError<Code> {
  readonly domain = 'scheduler';
  get kind(): ErrorKind {
    switch (this.code) {
      case 'busy':
        return 'unavailable';
      case 'bad-data':
        return 'invalid';
      case 'gone':
        return 'not-found';
    }
  }
}

/** What the handlers do per label: fail with this error until `failUntil` attempts, or wait at a gate. */
const behaviour = new Map<string, { error: () => Error; failUntil: number }>();
const gates = new Map<string, Promise<void>>();
const calls: { handler: string; label: string; attempt: number; quantity?: number }[] = [];
let schema = '';

/** The handler's effect in its transaction; `attempt` given: fails as `behaviour` says. */
async function effect(
  tx: EntityManager,
  handler: string,
  envelope: EventEnvelope<typeof Noted>,
  attempt?: number,
): Promise<void> {
  calls.push({ handler, label: envelope.payload.label, attempt: attempt ?? 1 });
  await tx.query(`INSERT INTO "${schema}".effects (handler, envelope_id) VALUES ($1, $2)`, [
    handler,
    envelope.id,
  ]);
  await gates.get(envelope.payload.label);
  const plan = behaviour.get(envelope.payload.label);
  if (plan && attempt !== undefined && attempt < plan.failUntil) throw plan.error();
}

@EventConsumer()
class OrderConsumers {
  @EventPattern(Ordered.type, consumerGroup('orders', { concurrency: 1 }))
  async onOrdered(
    @Payload() envelope: EventEnvelope<typeof Ordered>,
    @Ctx() ctx: EnvelopeContext<EntityManager>,
  ): Promise<void> {
    calls.push({
      handler: 'orders',
      label: envelope.payload.label,
      attempt: ctx.attempt,
      quantity: envelope.payload.quantity,
    });
    await ctx.tx.query(`INSERT INTO "${schema}".effects (handler, envelope_id) VALUES ($1, $2)`, [
      'orders',
      envelope.id,
    ]);
  }

  @EventPattern(Noted.type, consumerGroup('orders', { concurrency: 1 }))
  onNoted(@Payload() envelope: EventEnvelope<typeof Noted>, @Ctx() ctx: EnvelopeContext<EntityManager>) {
    return effect(ctx.tx, 'orders-notes', envelope, ctx.attempt);
  }
}

@EventConsumer()
class AuditConsumers {
  // The same event in a second group: its own consumer, offsets and dedupe record.
  @EventPattern(Noted.type, consumerGroup('audit'))
  onNoted(@Payload() envelope: EventEnvelope<typeof Noted>, @Ctx() ctx: EnvelopeContext<EntityManager>) {
    return effect(ctx.tx, 'audit', envelope);
  }
}

@EventConsumer()
class Ungrouped {
  @EventPattern(Noted.type)
  onNoted(): void {
    return undefined;
  }
}

@EventConsumer()
class NotInCatalogue {
  @EventPattern('test.unknown', consumerGroup('unknown'))
  onUnknown(): void {
    return undefined;
  }
}

describe('Kafka event transport: @EventPattern consumers on ReliableConsumer (real Kafka and Postgres)', () => {
  let dataSource: DataSource;
  let publisher: EventPublisher;
  const groupPrefix = `${uniqueName('tp')}.`;
  const outcomes: { outcome: ConsumeOutcome; topic: string }[] = [];
  let app: INestMicroservice | undefined;
  let transport: KafkaEventTransport<EntityManager>;

  function transportFor(startAt: number): KafkaEventTransport<EntityManager> {
    return new KafkaEventTransport<EntityManager>({
      kafka,
      serviceName: 'svc',
      groupPrefix,
      newGroupsStartAt: startAt,
      registry,
      store: new PostgresIdempotencyStore(dataSource, schema),
      publisher,
      logger: silentLogger,
      retry: { maxAttempts: 3, delayMs: () => 200 },
      disposition: consumerDisposition,
      onOutcome: (outcome, topic) => outcomes.push({ outcome, topic }),
    });
  }

  async function startApp(controllers: Type[], strategy: KafkaEventTransport<EntityManager>) {
    @Module({ controllers })
    class TransportTestModule {}
    const created = await NestFactory.createMicroservice(TransportTestModule, { strategy, logger: false });
    await created.listen();
    return created;
  }

  async function effectsOf(handler: string, envelopeId: string): Promise<number> {
    const rows: { n: string }[] = await dataSource.query(
      `SELECT count(*) AS n FROM "${schema}".effects WHERE handler = $1 AND envelope_id = $2`,
      [handler, envelopeId],
    );
    return Number(rows[0]?.n);
  }

  async function committed(group: string, topic: string): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId: `${groupPrefix}svc.${group}`, topics: [topic] });
      return Math.max(...(offsets?.partitions ?? []).map((p) => Number(p.offset)));
    } finally {
      await admin.disconnect();
    }
  }

  beforeAll(async () => {
    schema = uniqueName('transport');
    dataSource = await messagingSchema(env.DATABASE_URL, schema, 'transport-test');
    await dataSource.query(
      `CREATE TABLE "${schema}".effects (handler text NOT NULL, envelope_id uuid NOT NULL)`,
    );
    await createTopicsWithTiers(kafka, [ordersTopic, notesTopic]);
    publisher = new EventPublisher(kafka, registry);
    await publisher.connect();
    // Published before the groups exist and before their start time: never seen by them.
    await publisher.publish(registry.create(Noted, '1000', { label: 'before-start' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    transport = transportFor(Date.now());
    app = await startApp([OrderConsumers, AuditConsumers], transport);
  }, 120000);

  afterAll(async () => {
    await app?.close();
    await publisher.disconnect();
    await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
    await dataSource.destroy();
  });

  it('finds the handlers and runs one consumer group per declared group, with the service prefix', () => {
    expect(Object.fromEntries(transport.groupIds())).toEqual({
      orders: `${groupPrefix}svc.orders`,
      audit: `${groupPrefix}svc.audit`,
    });
  });

  it('hands each handler the validated envelope in its group; the same event reaches both groups once', async () => {
    const order = registry.create(Ordered, '1000', { label: 'o-1', quantity: 2 });
    // A producer that left out a defaulted field: the handler sees the payload as the schema made it.
    const raw = { ...registry.create(Ordered, '1000', { label: 'o-2', quantity: 1 }) };
    await publisher.publish(order);
    await publisher.forward(ordersTopic, {
      key: '1000',
      value: JSON.stringify({ ...raw, payload: { label: 'o-2' } }),
      headers: {},
    });
    const note = registry.create(Noted, '1000', { label: 'n-1' });
    await publisher.publish(note);
    await waitFor('both groups handled the note', async () => {
      return (await effectsOf('orders-notes', note.id)) === 1 && (await effectsOf('audit', note.id)) === 1;
    });
    await waitFor('orders handled', () => calls.filter((c) => c.handler === 'orders').length === 2);
    expect(calls.filter((c) => c.handler === 'orders')).toEqual([
      { handler: 'orders', label: 'o-1', attempt: 1, quantity: 2 },
      { handler: 'orders', label: 'o-2', attempt: 1, quantity: 1 },
    ]);
    expect(
      calls
        .filter((c) => c.label === 'n-1')
        .map((c) => c.handler)
        .sort(),
    ).toEqual(['audit', 'orders-notes']);
    expect(calls.some((c) => c.label === 'before-start')).toBe(false);
  });

  it("commits the offset only after the handler's transaction committed", async () => {
    let open: () => void = () => undefined;
    gates.set('gated', new Promise<void>((resolve) => (open = resolve)));
    const before = await committed('orders', notesTopic);
    const note = registry.create(Noted, '1000', { label: 'gated' });
    await publisher.publish(note);
    await waitFor('handler running', () =>
      calls.some((c) => c.handler === 'orders-notes' && c.label === 'gated'),
    );
    // In flight: the effect is written in the open transaction, not committed; nor is the offset.
    expect(await effectsOf('orders-notes', note.id)).toBe(0);
    expect(await committed('orders', notesTopic)).toBe(before);
    open();
    await waitFor('offset committed', async () => (await committed('orders', notesTopic)) === before + 1);
    expect(await effectsOf('orders-notes', note.id)).toBe(1);
  });

  it("maps a handler's error by its DomainError kind: unavailable retries, invalid dead-letters, not-found drops, unknown retries", async () => {
    behaviour.set('busy', { error: () => new SampleError('busy', 'try later'), failUntil: 2 });
    behaviour.set('bad', { error: () => new SampleError('bad-data', 'cannot use this'), failUntil: 99 });
    behaviour.set('gone', { error: () => new SampleError('gone', 'nothing to do'), failUntil: 99 });
    behaviour.set('boom', { error: () => new Error('socket hang up'), failUntil: 99 });
    const busy = registry.create(Noted, '1000', { label: 'busy' });
    const bad = registry.create(Noted, '1000', { label: 'bad' });
    const gone = registry.create(Noted, '1000', { label: 'gone' });
    const boom = registry.create(Noted, '1000', { label: 'boom' });
    for (const envelope of [busy, bad, gone, boom]) await publisher.publish(envelope);

    const attemptsOf = (label: string) =>
      calls.filter((c) => c.handler === 'orders-notes' && c.label === label).map((c) => c.attempt);
    await waitFor(
      'busy handled on its second attempt',
      async () => (await effectsOf('orders-notes', busy.id)) === 1,
      {
        timeoutMs: 30000,
      },
    );
    await waitFor('boom retried to the last attempt', () => attemptsOf('boom').length === 3, {
      timeoutMs: 30000,
    });
    expect(attemptsOf('busy')).toEqual([1, 2]);
    expect(attemptsOf('bad')).toEqual([1]);
    expect(attemptsOf('gone')).toEqual([1]);
    expect(attemptsOf('boom')).toEqual([1, 2, 3]);
    // A failed attempt rolls its effect back.
    for (const envelope of [bad, gone, boom]) expect(await effectsOf('orders-notes', envelope.id)).toBe(0);

    const letters = await waitFor(
      'bad and boom dead-lettered',
      async () => {
        const listed = await processDeadLetters({
          kafka,
          topic: notesTopic,
          replay: false,
          timeoutMs: 10000,
        });
        return listed.letters.length >= 2 ? listed.letters : undefined;
      },
      { timeoutMs: 40000 },
    );
    expect(letters.map((l) => [l.envelopeId, l.attempts]).sort()).toEqual(
      [
        [bad.id, 1],
        [boom.id, 3],
      ].sort(),
    );
    // The dead letter names the domain error by its code and error id (the safe-error path).
    expect(letters.find((l) => l.envelopeId === bad.id)?.lastError).toMatch(
      /^domain\/scheduler:bad-data: cannot use this \(error id [0-9a-f-]{36}\)$/,
    );
    expect(outcomes.filter((o) => o.outcome === 'dropped')).toHaveLength(1);
  });

  it('lets an in-flight handler finish and commit when the app closes', async () => {
    let open: () => void = () => undefined;
    gates.set('closing', new Promise<void>((resolve) => (open = resolve)));
    const note = registry.create(Noted, '1000', { label: 'closing' });
    const before = await committed('orders', notesTopic);
    await publisher.publish(note);
    await waitFor('handler running', () =>
      calls.some((c) => c.handler === 'orders-notes' && c.label === 'closing'),
    );
    const closed = app?.close();
    app = undefined;
    await new Promise((resolve) => setTimeout(resolve, 300));
    open();
    await closed;
    expect(await effectsOf('orders-notes', note.id)).toBe(1);
    expect(await committed('orders', notesTopic)).toBe(before + 1);
  });

  it('refuses to start a handler without a group, or of an event type outside the catalogue', async () => {
    await expect(startApp([Ungrouped], transportFor(Date.now()))).rejects.toThrow(
      /@EventPattern\('test.note.added'\): extras need \{ group \}/,
    );
    await expect(startApp([NotInCatalogue], transportFor(Date.now()))).rejects.toThrow(
      /@EventPattern\('test.unknown'\): not an event type of the catalogue/,
    );
  });
});
