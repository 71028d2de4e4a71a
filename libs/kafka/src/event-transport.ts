import { applyDecorators, Catch, Controller, type RpcExceptionFilter, UseFilters } from '@nestjs/common';
import {
  BaseRpcContext,
  type CustomTransportStrategy,
  type MessageHandler,
  Server,
} from '@nestjs/microservices';
import type { Kafka } from 'kafkajs';
import { lastValueFrom, type Observable, throwError } from 'rxjs';
import { z } from 'zod';
import type { Envelope, EventRegistry } from './envelope';
import type { EventDefinition, PayloadOf } from './event-definition';
import type { MessagingLogger } from './kafka-client';
import type { EventPublisher } from './publisher';
import {
  type ConsumeOutcome,
  describeError,
  type HandlerContext,
  type IdempotencyStore,
  ReliableConsumer,
  type ReliableConsumerOptions,
} from './reliable-consumer';
import type { RetryPolicy } from './retry-policy';
import { retryTopicsOf } from './retry-tiers';

/** What a consumer does with a message whose handler threw. */
export type ErrorDisposition = 'retry' | 'dead-letter' | 'drop';

/**
 * The extras of an `@EventPattern(type, extras)` handler. `group` is the consumer group's suffix
 * (the group is `<KAFKA_GROUP_PREFIX><service>.<group>`); handlers sharing a group share one
 * consumer, one offset and one dedupe record per envelope.
 */
export interface EventHandlerOptions {
  group: string;
  /** Partitions consumed at once (default 3); 1 keeps the group's effects in topic order. */
  concurrency?: number;
  /** The group's retry policy, or one built from the service's validated config. */
  retry?: RetryPolicy | ((config: never) => RetryPolicy);
}

const handlerOptionsSchema = z.object({
  group: z.string().regex(/^[a-z][a-z0-9-]*$/, 'group must be kebab-case'),
  concurrency: z.number().int().min(1).max(64).optional(),
  retry: z.unknown().optional(),
});

/** The decoded, validated envelope of a catalogue event, as a handler receives it. */
export type EventEnvelope<D extends EventDefinition> = Envelope<PayloadOf<D>>;

/** `@Ctx()` of an event handler: the transaction its effect must be written in, and where it is. */
export class EnvelopeContext<Tx> extends BaseRpcContext<[HandlerContext<Tx>, Envelope]> {
  /** Write the effect in this transaction: it commits with the dedupe record, before the offset. */
  get tx(): Tx {
    return this.args[0].tx;
  }
  /** 1 on first delivery, then one more per retry. */
  get attempt(): number {
    return this.args[0].attempt;
  }
  /** The main topic (also when the message came through a retry tier). */
  get topic(): string {
    return this.args[0].topic;
  }
  get envelope(): Envelope {
    return this.args[1];
  }
}

/**
 * Nest's default RPC filter turns every error into `{ status: 'error' }`; the transport needs the
 * error itself to decide retry / dead-letter / drop, so event controllers hand it on unchanged.
 */
@Catch()
export class RethrowToTransport implements RpcExceptionFilter {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

/** A class of `@EventPattern` handlers: a Nest controller whose errors reach the transport. */
export function EventConsumer(): ClassDecorator {
  return applyDecorators(Controller(), UseFilters(new RethrowToTransport()));
}

export interface KafkaEventTransportOptions<Tx> {
  kafka: Kafka;
  serviceName: string;
  /** Prepended to every group id (tests: a prefix per suite); empty in production. */
  groupPrefix?: string;
  /**
   * A group with no committed offset starts at the first message at or after this time (epoch
   * ms) instead of the beginning of its topics: tests use it with a prefix of their own.
   */
  newGroupsStartAt?: number;
  registry: EventRegistry;
  store: IdempotencyStore<Tx>;
  publisher: EventPublisher;
  logger: MessagingLogger;
  /** Default retry policy of a group that declares none. */
  retry: RetryPolicy;
  /** The service's validated config, given to retry policies declared as functions. */
  config?: unknown;
  /** A handler's error → what happens to the message. */
  disposition: (error: unknown) => ErrorDisposition;
  onOutcome?: (outcome: ConsumeOutcome, topic: string) => void;
  /** Refuses an event whose named producer may not send its type (see ReliableConsumer). */
  producerCheck?: ReliableConsumerOptions<Tx>['producerCheck'];
}

interface GroupPlan {
  groupId: string;
  topics: Set<string>;
  handlers: Map<string, MessageHandler[]>;
  concurrency: number | undefined;
  retry: EventHandlerOptions['retry'];
}

const DEFAULT_CONCURRENCY = 3;

/**
 * Nest custom transport over ReliableConsumer: finds the `@EventPattern(eventType, { group })`
 * handlers of the app, runs one ReliableConsumer per group on the topics of its events (and
 * their retry tiers), and calls the handler of each envelope's type inside the consumer's
 * dedupe transaction. The offset is committed only after that transaction; a handler's error
 * goes to a retry tier, the dead-letter topic or nowhere as `disposition` says.
 */
export class KafkaEventTransport<Tx> extends Server implements CustomTransportStrategy {
  private readonly consumers: ReliableConsumer<Tx>[] = [];
  private closing: Promise<void> | undefined;
  private planned: Map<string, GroupPlan> | undefined;

  constructor(private readonly options: KafkaEventTransportOptions<Tx>) {
    super();
  }

  /** The consumer group ids this app's handlers use, by group name (known once Nest registered them). */
  groupIds(): Map<string, string> {
    return new Map([...this.plan().entries()].map(([name, plan]) => [name, plan.groupId]));
  }

  listen(callback: (error?: unknown) => void): void {
    this.start().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  async close(): Promise<void> {
    this.closing ??= Promise.all(this.consumers.map((c) => c.stop().catch(() => undefined))).then(
      () => undefined,
    );
    await this.closing;
  }

  on(): never {
    throw new Error('KafkaEventTransport has no events to listen to');
  }

  /** The running consumers (Nest's signature: the caller names what it expects). */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  unwrap<T>(): T {
    return this.consumers as T;
  }

  private async start(): Promise<void> {
    const plans = [...this.plan().values()];
    if (this.options.newGroupsStartAt !== undefined) {
      await Promise.all(plans.map((plan) => this.placeNewGroupPatiently(plan)));
    }
    for (const plan of plans) {
      if (this.closing) return;
      const consumer = this.consumerFor(plan);
      await consumer.start();
      // Closed while this one was joining (HTTP serves before consumers join): stop it too.
      if (this.closing) {
        await consumer.stop().catch(() => undefined);
        return;
      }
      this.consumers.push(consumer);
      this.options.logger.info(
        { groupId: plan.groupId, events: [...plan.handlers.keys()] },
        'event consumer started',
      );
    }
  }

  /**
   * Groups the handlers Nest registered by their `group`; refuses what cannot be consumed. Nest
   * chains the handlers of one pattern (calling the first runs them all); they are unchained
   * here, since each belongs to its own group, consumer and transaction.
   */
  private plan(): Map<string, GroupPlan> {
    if (this.planned) return this.planned;
    const groups = new Map<string, GroupPlan>();
    for (const [pattern, head] of this.messageHandlers) {
      const chain: MessageHandler[] = [];
      for (let handler: MessageHandler | undefined = head; handler; handler = handler.next) {
        chain.push(handler);
      }
      for (const handler of chain) handler.next = undefined;
      const topic = this.options.registry.topicOfType(pattern);
      if (!topic) throw new Error(`@EventPattern('${pattern}'): not an event type of the catalogue`);
      for (const handler of chain) {
        if (!handler.isEventHandler) {
          throw new Error(`@MessagePattern('${pattern}'): Kafka consumers take events only (@EventPattern)`);
        }
        const parsed = handlerOptionsSchema.safeParse(handler.extras ?? {});
        if (!parsed.success) {
          throw new Error(
            `@EventPattern('${pattern}'): extras need { group }: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
          );
        }
        const extras = handler.extras as EventHandlerOptions;
        const plan = groups.get(extras.group) ?? {
          groupId: `${this.options.groupPrefix ?? ''}${this.options.serviceName}.${extras.group}`,
          topics: new Set<string>(),
          handlers: new Map<string, MessageHandler[]>(),
          concurrency: undefined,
          retry: undefined,
        };
        if (extras.concurrency !== undefined) {
          if (plan.concurrency !== undefined && plan.concurrency !== extras.concurrency) {
            throw new Error(`group ${extras.group}: handlers declare different concurrency`);
          }
          plan.concurrency = extras.concurrency;
        }
        if (extras.retry !== undefined) {
          if (plan.retry !== undefined && plan.retry !== extras.retry) {
            throw new Error(`group ${extras.group}: handlers declare different retry policies`);
          }
          plan.retry = extras.retry;
        }
        plan.topics.add(topic);
        plan.handlers.set(pattern, [...(plan.handlers.get(pattern) ?? []), handler]);
        groups.set(extras.group, plan);
      }
    }
    this.planned = groups;
    return groups;
  }

  private consumerFor(plan: GroupPlan): ReliableConsumer<Tx> {
    const { disposition } = this.options;
    const retry =
      typeof plan.retry === 'function'
        ? plan.retry(this.options.config as never)
        : (plan.retry ?? this.options.retry);
    return new ReliableConsumer<Tx>({
      kafka: this.options.kafka,
      groupId: plan.groupId,
      topics: [...plan.topics],
      registry: this.options.registry,
      store: this.options.store,
      publisher: this.options.publisher,
      retry,
      logger: this.options.logger,
      partitionsConsumedConcurrently: plan.concurrency ?? DEFAULT_CONCURRENCY,
      isPermanent: (error) => disposition(error) === 'dead-letter',
      isDroppable: (error) => disposition(error) === 'drop',
      ...(this.options.onOutcome ? { onOutcome: this.options.onOutcome } : {}),
      ...(this.options.producerCheck ? { producerCheck: this.options.producerCheck } : {}),
      handler: (envelope, ctx) => this.dispatch(plan, envelope, ctx),
    });
  }

  /**
   * Runs the group's handlers of this envelope's type, one after the other, in the consumer's
   * transaction. A type the group has no handler for (another event on the same topic) is done.
   */
  private async dispatch(plan: GroupPlan, envelope: Envelope, ctx: HandlerContext<Tx>): Promise<void> {
    for (const handler of plan.handlers.get(envelope.type) ?? []) {
      const result: unknown = await handler(envelope, new EnvelopeContext<Tx>([ctx, envelope]));
      await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
    }
  }

  /**
   * Placing a group right after its topics were created can meet a partition whose leader is not
   * elected yet (`NOT_LEADER_OR_FOLLOWER`); such errors pass within seconds, so the placement is
   * tried again a bounded number of times before the start-up fails.
   */
  private async placeNewGroupPatiently(plan: GroupPlan): Promise<void> {
    const attempts = 6;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.placeNewGroup(plan);
        return;
      } catch (error) {
        if (attempt >= attempts || this.closing) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 4000)));
      }
    }
  }

  /**
   * A new (never committed) group starts at `newGroupsStartAt` on each of its topics and retry
   * tiers, so a test suite's consumers see what was produced since the suite began and nothing
   * of earlier suites on the same broker. A group that has members (another replica, or a killed
   * one not yet expired) was placed by whoever started it first, and is left alone. The offsets
   * are committed by one short-lived member of the group (one join, not one per topic).
   */
  private async placeNewGroup(plan: GroupPlan): Promise<void> {
    const at = this.options.newGroupsStartAt;
    if (at === undefined) return;
    const { kafka, logger } = this.options;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { groups } = await admin.describeGroups([plan.groupId]);
      const state = groups[0]?.state ?? 'Dead';
      if (state !== 'Empty' && state !== 'Dead') return;
      const topics = [...plan.topics].flatMap((t) => [t, ...retryTopicsOf(t)]);
      const committed = await admin.fetchOffsets({ groupId: plan.groupId, topics });
      const offsets: { topic: string; partition: number; offset: string }[] = [];
      for (const { topic, partitions } of committed) {
        if (partitions.some((p) => p.offset !== '-1')) continue;
        for (const o of await admin.fetchTopicOffsetsByTimestamp(topic, at)) {
          offsets.push({ topic, partition: o.partition, offset: o.offset });
        }
      }
      if (offsets.length > 0) await this.commitAsMember(plan.groupId, offsets);
    } catch (error) {
      logger.warn(
        { groupId: plan.groupId, error: describeError(error) },
        'new consumer group could not be placed at its start time',
      );
      throw error;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Joins the group alone, commits `offsets` (nothing is consumed) and leaves, within 60 s. */
  private async commitAsMember(
    groupId: string,
    offsets: { topic: string; partition: number; offset: string }[],
  ): Promise<void> {
    const topics = [...new Set(offsets.map((o) => o.topic))];
    const member = this.options.kafka.consumer({ groupId, allowAutoTopicCreation: false });
    let timer: NodeJS.Timeout | undefined;
    try {
      const joined = new Promise<void>((resolve, reject) => {
        member.on(member.events.GROUP_JOIN, () => resolve());
        timer = setTimeout(() => reject(new Error(`group ${groupId} not joined within 60 s`)), 60000);
      });
      await member.connect();
      await member.subscribe({ topics, fromBeginning: true });
      await member.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: () => Promise.resolve(),
      });
      member.pause(topics.map((topic) => ({ topic })));
      await joined;
      await member.commitOffsets(offsets);
    } finally {
      clearTimeout(timer);
      await member.disconnect().catch(() => undefined);
    }
  }
}

/** The decorator extras of a group, typed (`@EventPattern(Events.x.type, consumerGroup('x'))`). */
export function consumerGroup(
  group: string,
  options: Omit<EventHandlerOptions, 'group'> = {},
): EventHandlerOptions & Record<string, unknown> {
  return { group, ...options };
}
