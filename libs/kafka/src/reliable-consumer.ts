import { OwnWordsError, reportError, safeError, safeErrorText, type SafeError } from '@cloud-connect/errors';
import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import { InvalidEnvelopeError, type Envelope, type EventRegistry } from './envelope';
import { Header, headerString } from './headers';
import type { MessagingLogger } from './kafka-client';
import type { EventPublisher } from './publisher';
import type { RetryPolicy } from './retry-policy';
import { mainTopicOfRetry, retryTopicFor, retryTopicsOf } from './retry-tiers';

/**
 * Makes a handler's effect and the record "this envelope was handled by this consumer" one
 * durable unit. `duplicate` means the effect had already been made and nothing ran.
 */
export interface IdempotencyStore<Tx> {
  runOnce(
    consumer: string,
    envelopeId: string,
    effect: (tx: Tx) => Promise<void>,
  ): Promise<'processed' | 'duplicate'>;
}

export interface HandlerContext<Tx> {
  /** Transaction the effect must be written in, so it commits with the dedupe record. */
  tx: Tx;
  attempt: number;
  topic: string;
}

export type EnvelopeHandler<Tx> = (envelope: Envelope, ctx: HandlerContext<Tx>) => Promise<void>;

export type ConsumeOutcome = 'processed' | 'duplicate' | 'retry-scheduled' | 'dead-lettered' | 'dropped';

export interface ReliableConsumerOptions<Tx> {
  kafka: Kafka;
  groupId: string;
  /** Main topics; their retry tiers (`<topic>.retry.*`) are consumed too, and `<topic>.dlq` receives failures. */
  topics: string[];
  registry: EventRegistry;
  store: IdempotencyStore<Tx>;
  publisher: EventPublisher;
  handler: EnvelopeHandler<Tx>;
  retry: RetryPolicy;
  logger: MessagingLogger;
  partitionsConsumedConcurrently?: number;
  /** Errors no retry can fix (bad data) skip straight to the dead-letter topic. */
  isPermanent?: (error: unknown) => boolean;
  /** Errors that make the message moot (what it is about is gone or already done): committed and logged, nothing else. */
  isDroppable?: (error: unknown) => boolean;
  onOutcome?: (outcome: ConsumeOutcome, topic: string) => void;
  /**
   * Whether the producer named in the message's `cc-producer` header may send this event type: a
   * refusal reason (the message is dead-lettered unhandled) or null. The broker's write ACLs decide
   * who can write a topic; this is the consumer's own check of the event's catalogue entry.
   */
  producerCheck?: (envelope: Envelope, producer: string | undefined) => string | null;
  now?: () => number;
}

const DLQ_SUFFIX = '.dlq';
const HEARTBEAT_EVERY_MS = 1000;
/** Retries due sooner than this are waited for in place; later ones pause their partition. */
const INLINE_WAIT_MS = 1000;

export function deadLetterTopicOf(topic: string): string {
  return `${topic}${DLQ_SUFFIX}`;
}

function errorFields(safe: SafeError): Record<string, string> {
  return { error: safe.summary, errorId: safe.errorId };
}

/**
 * Error text safe to keep in logs and headers: category, code and error id only (never a driver's,
 * SMTP server's or peer's raw text; see `safeError` in libs/errors).
 */
export function describeError(error: unknown): string {
  return safeErrorText(safeError(error));
}

/**
 * Kafka consumer that (1) validates every envelope, (2) runs the handler and the dedupe record in
 * one transaction, (3) commits the offset only after that transaction committed, (4) sends a
 * failed message to a retry topic of its delay's tier with a not-before time, and after
 * `maxAttempts` to `<topic>.dlq`. A crash anywhere before the offset commit redelivers; the dedupe
 * record makes the redelivery a no-op if the effect had committed.
 *
 * A retry that is not due yet pauses only its own partition (and is read again when due), so a
 * waiting message never holds up the main topics or the other retry tiers.
 */
export class ReliableConsumer<Tx> {
  private consumer: Consumer;
  private stopping = false;
  private running = false;
  private readonly now: () => number;
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private restartTimer: NodeJS.Timeout | undefined;
  private restartAttempts = 0;
  /** Messages being handled now; stop() lets them finish and commit before leaving the group. */
  private inFlight = 0;

  constructor(private readonly options: ReliableConsumerOptions<Tx>) {
    this.now = options.now ?? Date.now;
    this.consumer = this.newConsumer();
  }

  /**
   * A kafkajs consumer for this group. kafkajs restarts itself after retriable failures; after
   * one it gives up on (`restart: false`, e.g. the group coordinator still unknown once its
   * retries are spent after a broker restart) we start a fresh consumer with backoff, so a broker
   * outage never leaves a service alive but consuming nothing. Readiness is down meanwhile.
   */
  private newConsumer(): Consumer {
    const consumer = this.options.kafka.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 30000,
      heartbeatInterval: 3000,
    });
    consumer.on(consumer.events.CRASH, (event) => {
      this.options.logger.error(
        {
          groupId: this.options.groupId,
          error: describeError(event.payload.error),
          restart: event.payload.restart,
        },
        'kafka consumer crashed',
      );
      if (event.payload.restart || consumer !== this.consumer) return;
      this.running = false;
      this.scheduleRestart();
    });
    return consumer;
  }

  private scheduleRestart(): void {
    if (this.restartTimer || this.stopping) return;
    const delayMs = Math.min(1000 * 2 ** this.restartAttempts, 30000);
    this.restartAttempts += 1;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.restart();
    }, delayMs);
  }

  private async restart(): Promise<void> {
    if (this.stopping) return;
    await this.disconnectWithin(this.consumer, 10000);
    if (this.stopping) return;
    this.consumer = this.newConsumer();
    try {
      await this.start();
      this.restartAttempts = 0;
      this.options.logger.info(
        { groupId: this.options.groupId },
        'kafka consumer started again after a crash',
      );
    } catch (error) {
      this.options.logger.error(
        { groupId: this.options.groupId, error: describeError(error) },
        'kafka consumer could not start again; retrying',
      );
      this.scheduleRestart();
    }
  }

  /** kafkajs can hang in disconnect() while a crashed consumer is restarting: bound it. */
  private async disconnectWithin(consumer: Consumer, timeoutMs: number): Promise<'done' | 'timeout'> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([
      consumer
        .disconnect()
        .then(() => 'done' as const)
        .catch(() => 'done' as const),
      timedOut,
    ]);
    clearTimeout(timer);
    return outcome;
  }

  get isRunning(): boolean {
    return this.running && !this.stopping;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    for (const topic of this.options.topics) {
      await this.consumer.subscribe({ topics: [topic, ...retryTopicsOf(topic)], fromBeginning: true });
    }
    await this.consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachMessage: (payload) => this.onMessage(payload),
    });
    this.running = true;
  }

  /**
   * Stops fetching, lets the in-flight message finish (or abandons a retry wait uncommitted), and
   * disconnects. kafkajs can hang in disconnect() when it lands while a crashed consumer is
   * restarting; the bound makes shutdown finish anyway, and nothing is lost by it because offsets
   * are committed only after effects.
   */
  async stop(timeoutMs = 10000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    for (const timer of this.resumeTimers) clearTimeout(timer);
    this.resumeTimers.clear();
    // kafkajs drops offset commits once it is stopping: the in-flight handlers commit first.
    const deadline = this.now() + timeoutMs;
    while (this.inFlight > 0 && this.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const outcome = await this.disconnectWithin(this.consumer, Math.max(1000, deadline - this.now()));
    if (outcome === 'timeout') {
      this.options.logger.warn(
        { groupId: this.options.groupId, timeoutMs },
        'kafka consumer did not disconnect in time; abandoning it',
      );
    }
    this.running = false;
  }

  private async onMessage(payload: EachMessagePayload): Promise<void> {
    // Stopping: leave it uncommitted; it is read again after the restart.
    if (this.stopping) return;
    this.inFlight += 1;
    try {
      await this.handleMessage(payload);
    } finally {
      this.inFlight -= 1;
    }
  }

  private async handleMessage(payload: EachMessagePayload): Promise<void> {
    const { topic, partition, message } = payload;
    const { logger, groupId } = this.options;
    const retryOf = mainTopicOfRetry(topic);
    const isRetry = retryOf !== undefined;
    const mainTopic = retryOf ?? topic;
    const attempt = Number(headerString(message.headers, Header.attempt) ?? '1') || 1;

    if (isRetry) {
      const notBefore = Number(headerString(message.headers, Header.notBefore) ?? '0');
      if (notBefore - this.now() > INLINE_WAIT_MS) {
        this.deferPartition(payload, notBefore - this.now());
        return;
      }
      const waited = await this.waitUntil(notBefore, () => payload.heartbeat());
      if (!waited) {
        // Shutting down mid-wait: leave it uncommitted and stop this partition; it comes back after restart.
        payload.pause();
        return;
      }
    }

    let envelope: Envelope;
    try {
      envelope = this.options.registry.decode(message.value);
    } catch (error) {
      if (!(error instanceof InvalidEnvelopeError)) throw error;
      logger.warn(
        { groupId, topic, partition, offset: message.offset, error: error.message },
        'invalid envelope dead-lettered',
      );
      await this.forward(deadLetterTopicOf(mainTopic), message, mainTopic, attempt, safeError(error));
      await this.commit(topic, partition, message.offset);
      this.options.onOutcome?.('dead-lettered', mainTopic);
      return;
    }

    const refusal = this.options.producerCheck?.(envelope, headerString(message.headers, Header.producer));
    if (refusal) {
      logger.warn(
        {
          groupId,
          topic,
          partition,
          offset: message.offset,
          envelopeId: envelope.id,
          type: envelope.type,
          refusal,
        },
        'event from a producer not allowed to send it dead-lettered',
      );
      await this.forward(
        deadLetterTopicOf(mainTopic),
        message,
        mainTopic,
        attempt,
        safeError(new OwnWordsError('kafka', 'producer-not-allowed', refusal)),
      );
      await this.commit(topic, partition, message.offset);
      this.options.onOutcome?.('dead-lettered', mainTopic);
      return;
    }

    let outcome: ConsumeOutcome;
    try {
      outcome = await this.options.store.runOnce(groupId, envelope.id, (tx) =>
        this.options.handler(envelope, { tx, attempt, topic: mainTopic }),
      );
    } catch (error) {
      const permanent = this.options.isPermanent?.(error) ?? false;
      const exhausted = attempt >= this.options.retry.maxAttempts;
      const safe = reportError(logger, error, { groupId, topic: mainTopic, envelopeId: envelope.id });
      const log = {
        groupId,
        topic: mainTopic,
        envelopeId: envelope.id,
        type: envelope.type,
        attempt,
        ...errorFields(safe),
      };
      if (this.options.isDroppable?.(error)) {
        logger.warn(log, 'handler failed; message dropped');
        outcome = 'dropped';
      } else if (permanent || exhausted) {
        logger.error({ ...log, permanent }, 'handler failed; message dead-lettered');
        await this.forward(deadLetterTopicOf(mainTopic), message, mainTopic, attempt, safe);
        outcome = 'dead-lettered';
      } else {
        const delay = this.options.retry.delayMs(attempt);
        logger.warn({ ...log, retryInMs: delay }, 'handler failed; retry scheduled');
        await this.forward(
          retryTopicFor(mainTopic, delay),
          message,
          mainTopic,
          attempt + 1,
          safe,
          this.now() + delay,
        );
        outcome = 'retry-scheduled';
      }
    }
    await this.commit(topic, partition, message.offset);
    this.options.onOutcome?.(outcome, mainTopic);
  }

  /**
   * Pauses this partition and rewinds it to the message, uncommitted; the partition resumes when
   * the message is due. A rebalance meanwhile hands the message, still uncommitted, to whoever
   * takes the partition.
   */
  private deferPartition(payload: EachMessagePayload, waitMs: number): void {
    const resume = payload.pause();
    this.consumer.seek({
      topic: payload.topic,
      partition: payload.partition,
      offset: payload.message.offset,
    });
    const timer = setTimeout(() => {
      this.resumeTimers.delete(timer);
      if (!this.stopping) resume();
    }, waitMs);
    this.resumeTimers.add(timer);
  }

  private async waitUntil(notBefore: number, heartbeat: () => Promise<void>): Promise<boolean> {
    let lastBeat = this.now();
    while (this.now() < notBefore) {
      if (this.stopping) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(200, notBefore - this.now())));
      if (this.now() - lastBeat >= HEARTBEAT_EVERY_MS) {
        await heartbeat();
        lastBeat = this.now();
      }
    }
    return !this.stopping;
  }

  private async forward(
    topic: string,
    message: EachMessagePayload['message'],
    originalTopic: string,
    attempt: number,
    error: SafeError,
    notBefore?: number,
  ): Promise<void> {
    const headers: Record<string, string | Buffer> = {};
    for (const [name, value] of Object.entries(message.headers ?? {})) {
      const first = Array.isArray(value) ? value[0] : value;
      if (first !== undefined && name !== Header.notBefore) headers[name] = first;
    }
    headers[Header.originalTopic] = originalTopic;
    headers[Header.attempt] = String(attempt);
    headers[Header.lastError] = safeErrorText(error);
    headers[Header.failedAt] = new Date(this.now()).toISOString();
    if (notBefore !== undefined) headers[Header.notBefore] = String(notBefore);
    await this.options.publisher.forward(topic, { key: message.key, value: message.value, headers });
  }

  private async commit(topic: string, partition: number, offset: string): Promise<void> {
    await this.consumer.commitOffsets([{ topic, partition, offset: (BigInt(offset) + 1n).toString() }]);
  }
}
