import { consumerDisposition } from '@cloud-connect/errors';
import { PRODUCT_EVENTS, producerRefusal, topicSpecsFor } from '@cloud-connect/contracts';
import { OutboxRelay, OutboxWriter, PostgresIdempotencyStore } from '@cloud-connect/db';
import {
  createKafka,
  EventPublisher,
  EventRegistry,
  ensureTopics,
  exponentialBackoff,
  ReliableConsumer,
  type EnvelopeHandler,
  type KafkaSecurity,
  type RetryPolicy,
  type TopicReplication,
} from '@cloud-connect/kafka';
import { messagingMetrics, type Logger } from '@cloud-connect/observability';
import type { Admin, Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { DataSource, EntityManager } from 'typeorm';

export interface MessagingSettings {
  serviceName: string;
  schema: string;
  brokers: string[];
  clientId: string;
  /** Main topics this service produces to or consumes from: created (with retry/dlq) at start-up. */
  topics: string[];
  /** Replication of the topics created at start-up (default: 1 replica, the broker's ISR). */
  topicReplication?: TopicReplication;
  /** SASL/TLS of the broker connection (KAFKA_SASL_*, KAFKA_TLS*). */
  security?: KafkaSecurity;
}

export interface ConsumerRegistration {
  /** Consumer group suffix: the group is `<service>.<name>`. */
  name: string;
  topics: string[];
  handler: EnvelopeHandler<EntityManager>;
  retry?: RetryPolicy;
  isPermanent?: (error: unknown) => boolean;
  concurrency?: number;
}

const DEFAULT_RETRY = exponentialBackoff({ maxAttempts: 5, baseMs: 1000, maxMs: 60000 });

/**
 * A service's Kafka side: topic creation, the idempotent publisher, the outbox writer and relay,
 * and its reliable consumers. Lifecycle is driven by CoreModule (start after bootstrap, stop
 * consumers first on shutdown, relay and connections last).
 */
export class MessagingService {
  readonly registry = new EventRegistry(PRODUCT_EVENTS);
  readonly kafka: Kafka;
  readonly publisher: EventPublisher;
  readonly outbox: OutboxWriter;
  readonly relay: OutboxRelay;
  private readonly registrations: ConsumerRegistration[] = [];
  private readonly consumers: ReliableConsumer<EntityManager>[] = [];
  private admin: Admin | undefined;
  private readonly metrics: ReturnType<typeof messagingMetrics>;

  constructor(
    private readonly settings: MessagingSettings,
    private readonly dataSource: DataSource,
    private readonly logger: Logger,
    metricsRegistry: Registry,
  ) {
    this.kafka = createKafka({
      brokers: settings.brokers,
      clientId: settings.clientId,
      logger,
      ...(settings.security ? { security: settings.security } : {}),
    });
    this.publisher = new EventPublisher(this.kafka, this.registry, settings.serviceName);
    this.outbox = new OutboxWriter(this.registry, settings.schema);
    this.metrics = messagingMetrics(metricsRegistry, () => this.relay.pendingCount());
    this.relay = new OutboxRelay({
      dataSource,
      schema: settings.schema,
      kafka: this.kafka,
      logger,
      onPublished: (count) => this.metrics.published.inc({ source: 'outbox' }, count),
      producer: settings.serviceName,
      ...(settings.topicReplication ? { topicReplication: settings.topicReplication } : {}),
    });
  }

  /** Called by feature modules during init; consumers start once the app has bootstrapped. */
  registerConsumer(registration: ConsumerRegistration): void {
    this.registrations.push(registration);
  }

  /** Runs `work` in a transaction; envelopes it returns go to the outbox in the same transaction. */
  async transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    const result = await this.dataSource.transaction(work);
    this.relay.wake();
    return result;
  }

  async start(): Promise<void> {
    this.admin = this.kafka.admin();
    await this.admin.connect();
    const created = await ensureTopics(
      this.admin,
      topicSpecsFor(this.settings.topics),
      this.settings.topicReplication ?? 1,
    );
    if (created.length > 0) this.logger.info({ topics: created }, 'created kafka topics');
    await this.publisher.connect();
    this.relay.start();
    for (const registration of this.registrations) {
      const consumer = new ReliableConsumer<EntityManager>({
        kafka: this.kafka,
        groupId: `${this.settings.serviceName}.${registration.name}`,
        topics: registration.topics,
        registry: this.registry,
        store: new PostgresIdempotencyStore(this.dataSource, this.settings.schema),
        publisher: this.publisher,
        handler: registration.handler,
        retry: registration.retry ?? DEFAULT_RETRY,
        logger: this.logger,
        // Domain errors decide by their kind (consumerDisposition); a registration may add its own.
        isPermanent: (error) =>
          consumerDisposition(error) === 'dead-letter' || (registration.isPermanent?.(error) ?? false),
        isDroppable: (error) => consumerDisposition(error) === 'drop',
        partitionsConsumedConcurrently: registration.concurrency ?? 3,
        onOutcome: (outcome, topic) => this.metrics.consumed.inc({ topic, outcome }),
        producerCheck: (envelope, producer) => producerRefusal(envelope.type, producer),
      });
      await consumer.start();
      this.consumers.push(consumer);
    }
  }

  /** Readiness: the broker answers a metadata request right now. */
  async isReady(): Promise<boolean> {
    if (!this.admin) return false;
    try {
      await this.admin.describeCluster();
      return this.publisher.isConnected;
    } catch {
      return false;
    }
  }

  /** Stop taking work: consumers finish their in-flight message and commit. */
  async stopConsumers(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop().catch(() => undefined)));
  }

  async stop(): Promise<void> {
    await this.relay.stop();
    await this.publisher.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  }
}
