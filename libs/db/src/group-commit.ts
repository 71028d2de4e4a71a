import type { DataSource, EntityManager } from 'typeorm';
import { isDatabaseUnavailable } from './data-source';

export interface GroupCommitOptions {
  /** Most units of work in one transaction [64]. */
  maxBatch?: number;
  /**
   * How long a unit waits for company before its transaction starts, when a transaction slot is
   * free [0: until the end of the current event-loop turn]. While every slot is busy, units
   * queue anyway and the next free slot takes them all (up to maxBatch).
   */
  windowMs?: number;
  /** Transactions in flight at once [2]. */
  maxInFlight?: number;
  /** Called after each commit with the number of units it made durable (metrics). */
  onCommit?: (units: number) => void;
}

export type UnitOfWork<T> = (tx: EntityManager) => Promise<T>;

interface Queued {
  work: UnitOfWork<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit in the application: concurrent callers' units of work share one transaction, so
 * N writes cost one commit (one WAL flush with `synchronous_commit=on`) instead of N. Each
 * caller's promise settles only after the transaction holding its work committed, so an answer
 * sent after it is durable; nothing is acknowledged before.
 *
 * A quiet caller pays nothing: with a free transaction slot its work starts at the end of the
 * current event-loop turn. Under load, units queue while the slots are busy and go together
 * (up to `maxBatch`) as soon as one frees, so batches grow with concurrency by themselves.
 *
 * A unit that fails rolls back the shared transaction; every unit of that batch is then run
 * again in its own transaction, so only the failing one fails. Units must therefore have no
 * effect outside the transaction (they may run twice; only one run commits). When the database
 * is unavailable, every unit of the batch fails with that error (none was committed).
 */
export class GroupCommit {
  /** Transactions committed and units made durable so far (for tests and metrics). */
  commits = 0;
  units = 0;
  private readonly maxBatch: number;
  private readonly windowMs: number;
  private readonly maxInFlight: number;
  private queue: Queued[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: GroupCommitOptions = {},
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? 64);
    this.windowMs = Math.max(0, options.windowMs ?? 0);
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 2);
  }

  /** Runs `work` in a (shared) transaction; settles after that transaction committed. */
  transaction<T>(work: UnitOfWork<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    if (this.queue.length >= this.maxBatch) {
      this.start();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    const go = (): void => {
      this.scheduled = false;
      this.start();
    };
    if (this.windowMs > 0) setTimeout(go, this.windowMs);
    else setImmediate(go);
  }

  private start(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight += 1;
      void this.run(batch).finally(() => {
        this.inFlight -= 1;
        this.schedule();
      });
    }
  }

  private async run(batch: Queued[]): Promise<void> {
    let results: unknown[];
    try {
      results = await this.dataSource.transaction(async (tx) => {
        const out: unknown[] = [];
        for (const unit of batch) out.push(await unit.work(tx));
        return out;
      });
    } catch (error) {
      if (batch.length === 1 || isDatabaseUnavailable(error)) {
        for (const unit of batch) unit.reject(error);
        return;
      }
      // One unit failed (or two batches deadlocked): each runs again alone.
      await Promise.all(batch.map((unit) => this.runAlone(unit)));
      return;
    }
    this.committed(batch.length);
    batch.forEach((unit, i) => unit.resolve(results[i]));
  }

  private async runAlone(unit: Queued): Promise<void> {
    try {
      const result = await this.dataSource.transaction(unit.work);
      this.committed(1);
      unit.resolve(result);
    } catch (error) {
      unit.reject(error);
    }
  }

  private committed(units: number): void {
    this.commits += 1;
    this.units += units;
    this.options.onCommit?.(units);
  }
}
