import type { DataSource } from 'typeorm';
import { assertIdentifier } from './data-source';
import { createTable, tablesMigration } from './sql-migration';

/** One counter: `key` (e.g. `email:x@y`, `ip:203.0.113.7`) may make at most `max` attempts per window. */
export interface AttemptLimit {
  key: string;
  max: number;
}

/** Delete windows that ended once every this many `take` calls (keeps the table small). */
const SWEEP_EVERY = 500;

/**
 * Authentication-attempt counters shared by every replica of a service (a table in its schema),
 * in fixed windows. An attempt is counted *before* the expensive check (Argon2, signature), so N
 * parallel guesses cannot all pass a check made before any of them failed; a successful attempt
 * is then forgiven. A restart forgets nothing; memory use is the database's, swept of ended windows.
 */
export class PostgresAttemptThrottle {
  private readonly table: string;
  private takes = 0;

  /**
   * `sweepPrefix`: the key prefix this throttle's counters share; its sweep deletes only those
   * (several throttles with different windows share one table; without it every ended window of
   * this throttle's length is swept, whoever wrote it).
   */
  constructor(
    private readonly dataSource: DataSource,
    schema: string,
    private readonly windowSeconds: number,
    private readonly sweepPrefix = '',
  ) {
    this.table = `"${assertIdentifier(schema)}".attempt_counters`;
  }

  /**
   * Counts one attempt against every key. Returns 0 when all are within their limits, else the
   * seconds until the longest-blocked key's window ends (the caller answers 429 with Retry-After
   * and skips the check).
   */
  async take(limits: AttemptLimit[]): Promise<number> {
    let wait = 0;
    // One autocommit statement per key, in a fixed order: row locks are never held across keys.
    for (const limit of [...limits].sort((a, b) => a.key.localeCompare(b.key))) {
      const rows: { count: number; remaining: string }[] = await this.dataSource.query(
        `INSERT INTO ${this.table} AS c (key, count, window_start) VALUES ($1, 1, now())
         ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN c.window_start <= now() - make_interval(secs => $2) THEN 1 ELSE c.count + 1 END,
           window_start = CASE WHEN c.window_start <= now() - make_interval(secs => $2) THEN now() ELSE c.window_start END
         RETURNING count, extract(epoch FROM c.window_start + make_interval(secs => $2) - now()) AS remaining`,
        [limit.key, this.windowSeconds],
      );
      const row = rows[0];
      if (row && row.count > limit.max) wait = Math.max(wait, Math.max(1, Math.ceil(Number(row.remaining))));
    }
    this.takes += 1;
    if (this.takes % SWEEP_EVERY === 0) await this.sweep();
    return wait;
  }

  /** The attempt succeeded: it no longer counts against its keys. */
  async forgive(keys: string[]): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${this.table} SET count = greatest(count - 1, 0) WHERE key = ANY($1::text[])`,
      [keys],
    );
  }

  private async sweep(): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM ${this.table} WHERE window_start <= now() - make_interval(secs => $1) AND starts_with(key, $2)`,
      [this.windowSeconds, this.sweepPrefix],
    );
  }
}

/** The counters' table; services that throttle include it in their migration list. */
export const AttemptCounters1732300090000 = tablesMigration('AttemptCounters1732300090000', (s) => [
  createTable(s, 'attempt_counters', {
    key: 'text PRIMARY KEY',
    count: 'integer NOT NULL',
    window_start: 'timestamptz NOT NULL',
  }),
]);
