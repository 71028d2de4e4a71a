import {
  describeError,
  ensureTopics,
  type MessagingLogger,
  type TopicReplication,
} from '@cloud-connect/kafka';
import type { Kafka, Producer } from 'kafkajs';
import type { DataSource, QueryRunner } from 'typeorm';
import { assertIdentifier } from './data-source';
import { outboxChannel } from './outbox';

/** The pg client under a TypeORM query runner (notifications arrive on it). */
interface NotifyingClient {
  on(event: 'notification', listener: (message: { channel: string }) => void): unknown;
  on(event: 'error' | 'end', listener: () => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
}

export interface OutboxRelayOptions {
  dataSource: DataSource;
  schema: string;
  kafka: Kafka;
  logger: MessagingLogger;
  batchSize?: number;
  /** Retry interval while rows are pending but not yet visible (an older transaction is open) [200]. */
  pollIntervalMs?: number;
  /**
   * The leader listens on the schema's outbox channel (writers notify at commit) and otherwise
   * sleeps; this is only the safety net if a notification was missed [30000].
   */
  idlePollMs?: number;
  /** Topic whose committed group offset records the last batch published (see below). */
  checkpointTopic?: string;
  onPublished?: (count: number) => void;
  /**
   * The producing service, stamped on each event as the `cc-producer` header; it also names the
   * relay's Kafka consumer group and transactional id (`<service>.outbox-relay.<schema>`), so the
   * broker's ACLs let only that service's principal use (or fence) them.
   */
  producer?: string;
  /** Replication of the checkpoint topic when the relay creates it (default: 1 replica). */
  topicReplication?: TopicReplication;
  /** Fault injection for crash tests: runs after the Kafka commit, before rows are marked. */
  afterKafkaCommit?: () => Promise<void>;
}

interface OutboxRow {
  id: string;
  topic: string;
  message_key: string;
  envelope: string;
}

export const OUTBOX_CHECKPOINT_TOPIC = 'outbox.relay-checkpoints';

/**
 * Publishes the outbox to Kafka in id order, exactly once, surviving restarts:
 *
 * 1. only one relay per schema runs (a Postgres advisory lock; others stand by);
 * 2. a batch is claimed in Postgres (`batch_id`), then sent in ONE Kafka transaction together
 *    with a consumer-group offset commit that records `batch_id` as the relay's checkpoint;
 * 3. after the Kafka commit the rows are marked published.
 *
 * If the relay dies between 2 and 3, the restarted relay reads the checkpoint: rows of that batch
 * are marked published (they are in Kafka), any other claimed rows were never committed to Kafka
 * (their transaction is aborted by the new producer's fencing) and are published again.
 * Consumers read committed messages only, so each row reaches them once.
 */
export class OutboxRelay {
  private readonly table: string;
  /** Kafka consumer group (its offset is the checkpoint) and transactional id of the relay. */
  private readonly groupId: string;
  /** Postgres advisory lock: one leader per schema (the same key whatever names the Kafka ids). */
  private readonly lockKey: string;
  private readonly checkpointTopic: string;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly idlePollMs: number;
  private readonly channel: string;
  private listening: { client: NotifyingClient; detach: () => void } | undefined;
  private connectionLost = false;
  /** Passes made (tests see that an idle relay does not poll). */
  passes = 0;
  private producer: Producer | undefined;
  private lockRunner: QueryRunner | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  private leader = false;
  private lastError: string | undefined;

  constructor(private readonly options: OutboxRelayOptions) {
    const schema = assertIdentifier(options.schema);
    this.table = `"${schema}".outbox`;
    this.lockKey = `outbox-relay.${schema}`;
    this.groupId = options.producer ? `${options.producer}.${this.lockKey}` : this.lockKey;
    this.checkpointTopic = options.checkpointTopic ?? OUTBOX_CHECKPOINT_TOPIC;
    this.batchSize = options.batchSize ?? 200;
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.idlePollMs = options.idlePollMs ?? 30000;
    this.channel = outboxChannel(schema);
  }

  get isLeader(): boolean {
    return this.leader;
  }

  get error(): string | undefined {
    return this.lastError;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  /** Ask for an immediate pass (e.g. right after a transaction that wrote to the outbox committed). */
  wake(): void {
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    this.loop = undefined;
    await this.resign();
  }

  async pendingCount(): Promise<number> {
    const rows: { n: string }[] = await this.options.dataSource.query(
      `SELECT count(*) AS n FROM ${this.table} WHERE published_at IS NULL`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Publishes what is ready now; returns how many rows. Used by the loop and by tests. */
  async publishOnce(): Promise<number> {
    this.passes += 1;
    const ds = this.options.dataSource;
    const rows: OutboxRow[] = await ds.query(
      `SELECT id, topic, message_key, envelope::text AS envelope FROM ${this.table}
        WHERE published_at IS NULL AND batch_id IS NULL
          AND txid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY id LIMIT $1`,
      [this.batchSize],
    );
    const last = rows[rows.length - 1];
    if (!last || !this.producer) return 0;
    const batchId = last.id;
    await ds.query(`UPDATE ${this.table} SET batch_id = $1 WHERE id = ANY($2::bigint[])`, [
      batchId,
      rows.map((r) => r.id),
    ]);

    const byTopic = new Map<string, { key: string; value: string; headers: Record<string, string> }[]>();
    for (const row of rows) {
      const envelope = JSON.parse(row.envelope) as { type: string; version: number; traceparent?: string };
      const headers: Record<string, string> = { 'cc-event-type': `${envelope.type}@${envelope.version}` };
      if (envelope.traceparent) headers['traceparent'] = envelope.traceparent;
      if (this.options.producer) headers['cc-producer'] = this.options.producer;
      const list = byTopic.get(row.topic) ?? [];
      list.push({ key: row.message_key, value: row.envelope, headers });
      byTopic.set(row.topic, list);
    }

    const transaction = await this.producer.transaction();
    try {
      await transaction.sendBatch({
        acks: -1,
        topicMessages: [...byTopic.entries()].map(([topic, messages]) => ({ topic, messages })),
      });
      await transaction.sendOffsets({
        consumerGroupId: this.groupId,
        topics: [{ topic: this.checkpointTopic, partitions: [{ partition: 0, offset: batchId }] }],
      });
      await transaction.commit();
    } catch (error) {
      // The claimed rows stay claimed: whether the commit reached Kafka is only known from the
      // checkpoint, which recover() reads when this relay (or the next) becomes leader again.
      await transaction.abort().catch(() => undefined);
      throw error;
    }
    await this.options.afterKafkaCommit?.();
    await ds.query(`UPDATE ${this.table} SET published_at = now() WHERE batch_id = $1`, [batchId]);
    this.options.onPublished?.(rows.length);
    return rows.length;
  }

  private async run(): Promise<void> {
    let backoff = this.pollIntervalMs;
    while (!this.stopping) {
      try {
        if (!this.leader && !(await this.becomeLeader())) {
          await this.sleep(Math.max(2000, this.pollIntervalMs));
          continue;
        }
        if (this.connectionLost) throw new Error('the relay lost its database connection');
        const published = await this.publishOnce();
        this.lastError = undefined;
        backoff = this.pollIntervalMs;
        // Idle: sleep until a writer's notification (or the safety-net interval). Rows pending
        // but not yet visible (an older transaction still open): look again shortly.
        if (published === 0)
          await this.sleep((await this.hasPending()) ? this.pollIntervalMs : this.idlePollMs);
      } catch (error) {
        this.lastError = describeError(error);
        this.options.logger.warn(
          { schema: this.options.schema, error: this.lastError },
          'outbox relay pass failed',
        );
        await this.resign();
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  private async becomeLeader(): Promise<boolean> {
    const runner = this.options.dataSource.createQueryRunner();
    await runner.connect();
    const rows = (await runner.query(`SELECT pg_try_advisory_lock(hashtext($1)) AS locked`, [
      this.lockKey,
    ])) as { locked: boolean }[];
    if (!rows[0]?.locked) {
      await runner.release();
      return false;
    }
    this.lockRunner = runner;
    await this.listen(runner);
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(
        admin,
        [{ name: this.checkpointTopic, partitions: 1 }],
        this.options.topicReplication ?? 1,
      );
      // Creating the transactional producer fences any earlier incarnation and aborts its open transaction.
      this.producer = this.options.kafka.producer({
        transactionalId: this.groupId,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
      await this.producer.connect();
      const offsets = await admin.fetchOffsets({ groupId: this.groupId, topics: [this.checkpointTopic] });
      const checkpoint = offsets[0]?.partitions.find((p) => p.partition === 0)?.offset ?? '-1';
      await this.recover(checkpoint);
    } finally {
      await admin.disconnect();
    }
    this.leader = true;
    this.options.logger.info({ schema: this.options.schema }, 'outbox relay is the leader for its schema');
    return true;
  }

  private async recover(checkpoint: string): Promise<void> {
    const ds = this.options.dataSource;
    if (BigInt(checkpoint) >= 0n) {
      await ds.query(
        `UPDATE ${this.table} SET published_at = now() WHERE batch_id = $1 AND published_at IS NULL`,
        [checkpoint],
      );
    }
    await ds.query(
      `UPDATE ${this.table} SET batch_id = NULL WHERE published_at IS NULL AND batch_id IS NOT NULL`,
    );
  }

  /** LISTEN on the leader's own connection; a notification wakes the loop. */
  private async listen(runner: QueryRunner): Promise<void> {
    const client = (runner as unknown as { databaseConnection: NotifyingClient }).databaseConnection;
    const onNotification = (message: { channel: string }): void => {
      if (message.channel === this.channel) this.wake();
    };
    const onLost = (): void => {
      this.connectionLost = true;
      this.wake();
    };
    client.on('notification', onNotification);
    client.on('error', onLost);
    client.on('end', onLost);
    this.connectionLost = false;
    this.listening = {
      client,
      detach: () => {
        client.removeListener('notification', onNotification);
        client.removeListener('error', onLost);
        client.removeListener('end', onLost);
      },
    };
    await runner.query(`LISTEN "${this.channel}"`);
  }

  private async hasPending(): Promise<boolean> {
    const rows: unknown[] = await this.options.dataSource.query(
      `SELECT 1 FROM ${this.table} WHERE published_at IS NULL AND batch_id IS NULL LIMIT 1`,
    );
    return rows.length > 0;
  }

  private async resign(): Promise<void> {
    this.leader = false;
    this.listening?.detach();
    this.listening = undefined;
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
    const runner = this.lockRunner;
    this.lockRunner = undefined;
    if (runner) {
      await runner.query(`UNLISTEN "${this.channel}"`).catch(() => undefined);
      await runner.query(`SELECT pg_advisory_unlock(hashtext($1))`, [this.lockKey]).catch(() => undefined);
      await runner.release().catch(() => undefined);
    }
  }

  private sleep(ms: number): Promise<void> {
    // A stop asked for while the loop was busy must not wait out the (long) idle interval.
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}
