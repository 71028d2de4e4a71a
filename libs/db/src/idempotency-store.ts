import type { IdempotencyStore } from '@cloud-connect/kafka';
import type { DataSource, EntityManager } from 'typeorm';
import { assertIdentifier } from './data-source';

/**
 * The handler's effect and the `processed_messages` row commit in one Postgres transaction. A
 * second delivery of the same envelope blocks on the first's row, then finds it and does nothing.
 */
export class PostgresIdempotencyStore implements IdempotencyStore<EntityManager> {
  private readonly table: string;

  constructor(
    private readonly dataSource: DataSource,
    schema: string,
  ) {
    this.table = `"${assertIdentifier(schema)}".processed_messages`;
  }

  runOnce(
    consumer: string,
    envelopeId: string,
    effect: (tx: EntityManager) => Promise<void>,
  ): Promise<'processed' | 'duplicate'> {
    return this.dataSource.transaction(async (tx) => {
      const inserted: unknown[] = await tx.query(
        `INSERT INTO ${this.table} (consumer, envelope_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
        [consumer, envelopeId],
      );
      if (inserted.length === 0) return 'duplicate';
      await effect(tx);
      return 'processed';
    });
  }
}
