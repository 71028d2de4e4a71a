import { currentTraceparent, type Envelope, type EventRegistry } from '@cloud-connect/kafka';
import type { EntityManager } from 'typeorm';
import { assertIdentifier } from './data-source';

/** The LISTEN/NOTIFY channel a schema's outbox writers notify and its relay listens on. */
export function outboxChannel(schema: string): string {
  return `outbox.${assertIdentifier(schema)}`.slice(0, 63);
}

/**
 * Writes envelopes to the outbox inside the caller's transaction: the event exists if and only
 * if the state change that caused it committed. The relay publishes it afterwards; the same
 * statement notifies the relay's channel (delivered by Postgres at commit, once per
 * transaction), so the relay wakes without polling.
 */
export class OutboxWriter {
  private readonly table: string;
  private readonly channel: string;

  constructor(
    private readonly registry: EventRegistry,
    schema: string,
  ) {
    this.table = `"${assertIdentifier(schema)}".outbox`;
    this.channel = outboxChannel(schema);
  }

  async enqueue(tx: EntityManager, envelope: Envelope): Promise<void> {
    // The event keeps the trace of the request that caused it, even though it is sent later.
    const traceparent = envelope.traceparent ?? currentTraceparent();
    const valid = this.registry.validate(traceparent ? { ...envelope, traceparent } : envelope);
    await tx.query(
      `WITH row AS (INSERT INTO ${this.table} (topic, message_key, envelope) VALUES ($1, $2, $3) RETURNING id)
       SELECT pg_notify($4, '') FROM row`,
      [this.registry.topicOf(valid), valid.siteId, JSON.stringify(valid), this.channel],
    );
  }

  /**
   * Runs the caller's data-modifying `statement` (with `RETURNING`) and, in the same statement
   * (one round trip), enqueues `envelope` and notifies the relay **only if** the statement
   * returned a row (say an `INSERT … ON CONFLICT DO NOTHING RETURNING id` that inserted).
   * Answers the statement's rows. The caller's SQL stays in its repository; this adds the outbox's.
   */
  async enqueueIfReturned<R extends Record<string, unknown>>(
    tx: EntityManager,
    statement: { text: string; values: unknown[] },
    envelope: Envelope,
  ): Promise<R[]> {
    const traceparent = envelope.traceparent ?? currentTraceparent();
    const valid = this.registry.validate(traceparent ? { ...envelope, traceparent } : envelope);
    const n = statement.values.length;
    const rows: R[] = await tx.query(
      `WITH main AS (${statement.text}),
            row AS (INSERT INTO ${this.table} (topic, message_key, envelope)
                    SELECT $${n + 1}, $${n + 2}, $${n + 3} WHERE EXISTS (SELECT 1 FROM main) RETURNING id)
       SELECT main.*, (SELECT count(pg_notify($${n + 4}, '')) FROM row) AS outbox_rows FROM main`,
      [...statement.values, this.registry.topicOf(valid), valid.siteId, JSON.stringify(valid), this.channel],
    );
    // Each row also carries `outbox_rows` (1: the event was written with it).
    return rows;
  }

  async enqueueAll(tx: EntityManager, envelopes: Envelope[]): Promise<void> {
    for (const envelope of envelopes) await this.enqueue(tx, envelope);
  }
}
