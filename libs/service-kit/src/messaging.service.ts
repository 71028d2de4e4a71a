import { consumerDisposition } from '@cloud-connect/errors';
import { PRODUCT_EVENTS, producerRefusal, topicSpecsFor } from '@cloud-connect/contracts';
import { OutboxRelay, OutboxWriter, PostgresIdempotencyStore } from '@cloud-connect/db';
import {
  createKafka,
  EventPublisher,
  EventRegistry,
  ensureTopics,
  exponentialBackoff,
  KafkaEventTransport,
  type KafkaSecurity,
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
  /** Prepended to every consumer group id (`KAFKA_GROUP_PREFIX`; tests isolate suites with it). */
  groupPrefix?: string;
  /** New consumer groups start at this time instead of their topics' beginning (tests only). */
  newGroupsStartAt?: number;
  /** The service's validated config, for retry policies an `@EventPattern` builds from it. */
  config?: unknown;
  /** SASL/TLS of the broker connection (KAFKA_SASL_*, KAFKA_TLS*). */
  security?: KafkaSecurity;
}

const DEFAULT_RETRY = exponentialBackoff({ maxAttempts: 5, baseMs: 1000, maxMs: 60000 });

/**
 * A service's Kafka side: topic creation, the idempotent publisher, the outbox writer and relay,
 * and the Nest transport that runs its `@EventPattern` consumers. Lifecycle is driven by
 * CoreModule (start after bootstrap, stop consumers first on shutdown, relay and connections
 * last); the transport starts when runService starts the app's microservices.
 */
export class MessagingService {
  readonly registry = new EventRegistry(PRODUCT_EVENTS);
  readonly kafka: Kafka;
  readonly publisher: EventPublisher;
  readonly outbox: OutboxWriter;
  readonly relay: OutboxRelay;
  /** The Nest custom transport (`app.connectMicroservice({ strategy })`) of the service's consumers. */
  readonly transport: KafkaEventTransport<EntityManager>;
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
    this.transport = new KafkaEventTransport<EntityManager>({
      kafka: this.kafka,
      serviceName: settings.serviceName,
      ...(settings.groupPrefix ? { groupPrefix: settings.groupPrefix } : {}),
      ...(settings.newGroupsStartAt !== undefined ? { newGroupsStartAt: settings.newGroupsStartAt } : {}),
      registry: this.registry,
      store: new PostgresIdempotencyStore(dataSource, settings.schema),
      publisher: this.publisher,
      logger,
      retry: DEFAULT_RETRY,
      config: settings.config,
      // Domain errors decide by their kind (exhaustive); any other error is retried.
      disposition: consumerDisposition,
      onOutcome: (outcome, topic) => this.metrics.consumed.inc({ topic, outcome }),
      producerCheck: (envelope, producer) => producerRefusal(envelope.type, producer),
    });
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
    await this.transport.close();
  }

  async stop(): Promise<void> {
    await this.relay.stop();
    await this.publisher.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  }
}
