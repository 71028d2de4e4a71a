import { context, propagation } from '@opentelemetry/api';
import type { Kafka, Producer } from 'kafkajs';
import type { Envelope, EventRegistry } from './envelope';
import { Header } from './headers';

/** W3C traceparent of the active span, if any: carried in the envelope and the Kafka headers. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier['traceparent'];
}

export function envelopeHeaders(envelope: Envelope): Record<string, string> {
  const headers: Record<string, string> = { [Header.eventType]: `${envelope.type}@${envelope.version}` };
  if (envelope.traceparent) headers[Header.traceparent] = envelope.traceparent;
  return headers;
}

/**
 * Publishes envelopes with an idempotent producer (acks=all, one request in flight so retries
 * cannot reorder). Each envelope is validated against the registry before it leaves.
 * Services publish domain events through the outbox; this is for the relay and for mechanisms.
 */
export class EventPublisher {
  private readonly producer: Producer;
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly registry: EventRegistry,
    /** The producing service, stamped on each published event (Header.producer). */
    private readonly producerName?: string,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
  }

  /** True between connect() and disconnect(); kafkajs reconnects by itself after broker outages. */
  get isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
    this.connected = false;
  }

  async publish(
    envelope: Envelope,
    options: { topic?: string; headers?: Record<string, string> } = {},
  ): Promise<void> {
    const valid = this.registry.validate(envelope);
    await this.producer.send({
      topic: options.topic ?? this.registry.topicOf(valid),
      acks: -1,
      messages: [
        {
          key: valid.siteId,
          value: JSON.stringify(valid),
          headers: {
            ...envelopeHeaders(valid),
            ...(this.producerName ? { [Header.producer]: this.producerName } : {}),
            ...options.headers,
          },
        },
      ],
    });
  }

  /** Sends an already-encoded message (used to move messages between retry and dead-letter topics). */
  async forward(
    topic: string,
    message: {
      key: Buffer | string | null;
      value: Buffer | string | null;
      headers: Record<string, string | Buffer>;
    },
  ): Promise<void> {
    await this.producer.send({ topic, acks: -1, messages: [message] });
  }
}
