import type { EntityManager } from 'typeorm';

type Db = Pick<EntityManager, 'query'>;

export interface ProviderProblem {
  providerId: string;
  providerName: string;
  missingPermissions: string[];
}

export interface SyncStatus {
  state: 'idle' | 'syncing';
  lastScope: string | null;
  lastStartedAt: Date | null;
  lastSuccessAt: Date | null;
  lastError: string | null;
  lastAppointments: number | null;
  providerProblems: ProviderProblem[];
  /** The next recent sync (the scheduler's slot). */
  nextDueAt: Date | null;
  /** The next full sync (nightly, site time). */
  nextFullAt: Date | null;
}

/** The only way to `emr_sync_status`. */
export class SyncStatusRepository {
  constructor(private readonly schema: string) {}

  private get t(): string {
    return `"${this.schema}".emr_sync_status`;
  }

  async get(db: Db, siteNumber: string): Promise<SyncStatus | null> {
    const result: Record<string, unknown>[] = await db.query(
      `SELECT * FROM ${this.t} WHERE site_number = $1`,
      [siteNumber],
    );
    const r = result[0];
    if (!r) return null;
    return {
      state: r['state'] as SyncStatus['state'],
      lastScope: (r['last_scope'] as string | null) ?? null,
      lastStartedAt: (r['last_started_at'] as Date | null) ?? null,
      lastSuccessAt: (r['last_success_at'] as Date | null) ?? null,
      lastError: (r['last_error'] as string | null) ?? null,
      lastAppointments: (r['last_appointments'] as number | null) ?? null,
      providerProblems: (r['provider_problems'] as ProviderProblem[] | null) ?? [],
      nextDueAt: (r['next_due_at'] as Date | null) ?? null,
      nextFullAt: (r['next_full_at'] as Date | null) ?? null,
    };
  }

  async markStarted(db: Db, siteNumber: string, scope: string, requestId: string): Promise<void> {
    await db.query(
      `INSERT INTO ${this.t} (site_number, state, last_scope, last_request_id, last_started_at)
       VALUES ($1, 'syncing', $2, $3, now())
       ON CONFLICT (site_number) DO UPDATE SET state = 'syncing', last_scope = $2, last_request_id = $3, last_started_at = now()`,
      [siteNumber, scope, requestId],
    );
  }

  async markFinished(
    db: Db,
    siteNumber: string,
    outcome: {
      ok: boolean;
      error: string | null;
      appointments: number;
      problems: ProviderProblem[];
      next: { recent: Date | null; full: Date | null };
    },
  ): Promise<void> {
    await db.query(
      `UPDATE ${this.t} SET state = 'idle', last_error = $2, last_appointments = $3, provider_problems = $4,
         next_due_at = coalesce($5, next_due_at), next_full_at = coalesce($7, next_full_at),
         last_success_at = CASE WHEN $6 THEN now() ELSE last_success_at END
       WHERE site_number = $1`,
      [
        siteNumber,
        outcome.error,
        outcome.appointments,
        JSON.stringify(outcome.problems),
        outcome.next.recent,
        outcome.ok,
        outcome.next.full,
      ],
    );
  }

  /** The schedules' next slots, as the scheduler last said (a skipped request still brings them). */
  async setNext(db: Db, siteNumber: string, next: { recent: Date | null; full: Date | null }): Promise<void> {
    if (!next.recent && !next.full) return;
    // A site that never synced yet (e.g. its EMR connected after the first slot) shows them too.
    await db.query(
      `INSERT INTO ${this.t} AS s (site_number, state, next_due_at, next_full_at) VALUES ($1, 'idle', $2, $3)
       ON CONFLICT (site_number) DO UPDATE
          SET next_due_at = coalesce($2, s.next_due_at), next_full_at = coalesce($3, s.next_full_at)`,
      [siteNumber, next.recent, next.full],
    );
  }
}
