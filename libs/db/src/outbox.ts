import { currentTraceparent, type Envelope, type EventRegistry } from '@cloud-connect/kafka';
import type { EntityManager } from 'typeorm';
import { assertIdentifier } from './data-source';

/**
 * Writes envelopes to the outbox inside the caller's transaction: the event exists if and only
 * if the state change that caused it committed. The relay publishes it afterwards.
 */
export class OutboxWriter {
  private readonly table: string;

  constructor(
    private readonly registry: EventRegistry,
    schema: string,
  ) {
    this.table = `"${assertIdentifier(schema)}".outbox`;
  }

  async enqueue(tx: EntityManager, envelope: Envelope): Promise<void> {
    // The event keeps the trace of the request that caused it, even though it is sent later.
    const traceparent = envelope.traceparent ?? currentTraceparent();
    const valid = this.registry.validate(traceparent ? { ...envelope, traceparent } : envelope);
    await tx.query(`INSERT INTO ${this.table} (topic, message_key, envelope) VALUES ($1, $2, $3)`, [
      this.registry.topicOf(valid),
      valid.siteId,
      JSON.stringify(valid),
    ]);
  }

  async enqueueAll(tx: EntityManager, envelopes: Envelope[]): Promise<void> {
    for (const envelope of envelopes) await this.enqueue(tx, envelope);
  }
}
