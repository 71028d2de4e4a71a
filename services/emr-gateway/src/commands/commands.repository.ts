import type { EntityManager } from 'typeorm';
import type { SealedContent } from './phi-cipher';

type Db = Pick<EntityManager, 'query'>;

export interface QueuedCommand {
  commandId: string;
  siteNumber: string;
  patientKey: string;
  kind: string;
  sealed: SealedContent | null;
  sittingId: string | null;
  sittingIndex: number | null;
  sittingTotal: number | null;
  attempts: number;
  firstFailedAt: Date | null;
  receivedAt: Date;
  occurredAt: Date;
  /** The EMR chart a site admin picked for a held command. */
  chosenPatientId: string | null;
  sourceRef: string | null;
  /** Set once a write of this command was sent to an EMR that can be read back. */
  writeStartedAt: Date | null;
}

export interface NewCommand {
  commandId: string;
  patientKey: string;
  occurredAt: string;
  kind: string;
  sealed: SealedContent | null;
  sitting: { id: string; index: number; total: number } | null;
  sourceRef?: string | null;
}

/** Patient key of a command made from an inbound message not yet read (its patient is unknown). */
export const UNRESOLVED = 'unresolved:';

export interface QueueStats {
  siteNumber: string;
  pending: number;
  oldestPendingSeconds: number;
  dead: number;
  held: number;
}

function toCommand(r: Record<string, unknown>): QueuedCommand {
  return {
    commandId: String(r['command_id']),
    siteNumber: String(r['site_number']),
    patientKey: String(r['patient_key']),
    kind: String(r['kind']),
    sealed: (r['sealed'] as SealedContent | null) ?? null,
    sittingId: (r['sitting_id'] as string | null) ?? null,
    sittingIndex: (r['sitting_index'] as number | null) ?? null,
    sittingTotal: (r['sitting_total'] as number | null) ?? null,
    attempts: Number(r['attempts']),
    firstFailedAt: (r['first_failed_at'] as Date | null) ?? null,
    receivedAt: r['received_at'] as Date,
    occurredAt: r['occurred_at'] as Date,
    chosenPatientId: (r['chosen_patient_id'] as string | null) ?? null,
    sourceRef: (r['source_ref'] as string | null) ?? null,
    writeStartedAt: (r['write_started_at'] as Date | null) ?? null,
  };
}

function rows(result: unknown[]): unknown[] {
  return Array.isArray(result[0]) ? (result[0] as unknown[]) : result;
}

/**
 * The durable EMR command queue (`emr_commands`). Per-site methods take the site number; the two
 * dispatcher scans (`dueHeadsAcrossSites`, `statsAcrossSites`) are the operator-level exceptions.
 */
export class CommandsRepository {
  constructor(private readonly schema: string) {}

  private get t(): string {
    return `"${this.schema}".emr_commands`;
  }

  /** Enqueues a command once (a redelivered envelope or a re-sent command id is a no-op). */
  async enqueue(db: Db, siteNumber: string, command: NewCommand): Promise<void> {
    await db.query(
      `INSERT INTO ${this.t} (command_id, site_number, patient_key, occurred_at, kind, sealed, sitting_id, sitting_index, sitting_total, source_ref)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (command_id) DO NOTHING`,
      [
        command.commandId,
        siteNumber,
        command.patientKey,
        command.occurredAt,
        command.kind,
        command.sealed ? JSON.stringify(command.sealed) : null,
        command.sitting?.id ?? null,
        command.sitting?.index ?? null,
        command.sitting?.total ?? null,
        command.sourceRef ?? null,
      ],
    );
  }

  /**
   * The first pending command of each (site, patient) that is due, for sites whose connection is
   * up: per-patient order is (occurred_at, seq); a held or waiting head blocks only its patient.
   * A message not yet read (its patient unknown) is its own head and holds back the site's later
   * commands until it is read, so per-patient order survives a slow or failing read.
   */
  async dueHeadsAcrossSites(db: Db, limit: number): Promise<QueuedCommand[]> {
    const result: Record<string, unknown>[] = await db.query(
      `SELECT c.* FROM ${this.t} c
       JOIN "${this.schema}".emr_connections k ON k.site_number = c.site_number AND k.status = 'connected'
       WHERE c.status = 'pending' AND c.next_attempt_at <= now()
         AND NOT EXISTS (
           SELECT 1 FROM ${this.t} p WHERE p.status IN ('pending', 'held') AND p.site_number = c.site_number
             AND p.patient_key = c.patient_key AND (p.occurred_at, p.seq) < (c.occurred_at, c.seq))
         AND (c.patient_key LIKE '${UNRESOLVED}%' OR NOT EXISTS (
           SELECT 1 FROM ${this.t} u WHERE u.status = 'pending' AND u.site_number = c.site_number
             AND u.patient_key LIKE '${UNRESOLVED}%' AND (u.occurred_at, u.seq) < (c.occurred_at, c.seq)))
       ORDER BY c.occurred_at, c.seq LIMIT $1`,
      [limit],
    );
    return result.map(toCommand);
  }

  async pendingInSitting(
    db: Db,
    siteNumber: string,
    patientKey: string,
    sittingId: string,
  ): Promise<QueuedCommand[]> {
    const result: Record<string, unknown>[] = await db.query(
      `SELECT * FROM ${this.t} WHERE site_number = $1 AND patient_key = $2 AND sitting_id = $3
         AND status = 'pending' AND kind = 'save-progress-note' ORDER BY sitting_index, seq`,
      [siteNumber, patientKey, sittingId],
    );
    return result.map(toCommand);
  }

  /** A read message becomes the command(s) it makes: the first replaces the unresolved row. */
  async resolve(
    db: Db,
    siteNumber: string,
    commandId: string,
    patientKey: string,
    kind: string,
    sealed: SealedContent,
  ): Promise<void> {
    await db.query(
      `UPDATE ${this.t} SET patient_key = $3, kind = $4, sealed = $5, next_attempt_at = now(), attempts = 0,
         first_failed_at = NULL, last_error = NULL
       WHERE site_number = $1 AND command_id = $2 AND status = 'pending'`,
      [siteNumber, commandId, patientKey, kind, JSON.stringify(sealed)],
    );
  }

  /** Holds a command until an admin picks the chart; true when it was not held before (alert once). */
  async hold(
    db: Db,
    siteNumber: string,
    commandId: string,
    reason: string,
    candidates: string[],
  ): Promise<boolean> {
    const result: unknown[] = await db.query(
      `UPDATE ${this.t} SET status = 'held', hold_reason = $3, hold_candidates = $4, last_error = $3
       WHERE site_number = $1 AND command_id = $2 AND status = 'pending' RETURNING command_id`,
      [siteNumber, commandId, reason, JSON.stringify(candidates)],
    );
    return rows(result).length > 0;
  }

  /**
   * A site admin picked the chart of a held command: pending again, due now, written there; the
   * other commands made from the same inbound message (e.g. its tickler) go to the same chart.
   */
  async release(db: Db, siteNumber: string, commandId: string, patientId: string): Promise<boolean> {
    const result: unknown[] = await db.query(
      `UPDATE ${this.t} SET status = 'pending', chosen_patient_id = $3, next_attempt_at = now(), attempts = 0,
         first_failed_at = NULL WHERE site_number = $1 AND command_id = $2 AND status = 'held' RETURNING source_ref`,
      [siteNumber, commandId, patientId],
    );
    const released = rows(result) as { source_ref: string | null }[];
    const source = released[0]?.source_ref;
    if (source) {
      await db.query(
        `UPDATE ${this.t} SET chosen_patient_id = $3, status = 'pending', next_attempt_at = now()
         WHERE site_number = $1 AND source_ref = $2 AND status IN ('pending', 'held') AND command_id <> $4`,
        [siteNumber, source, patientId, commandId],
      );
    }
    return released.length > 0;
  }

  async heldCommands(db: Db, siteNumber: string, limit = 100): Promise<Record<string, unknown>[]> {
    return db.query(
      `SELECT command_id AS "commandId", kind, hold_reason AS "reason", hold_candidates AS "candidatePatientIds",
         source_ref AS "source", received_at AS "receivedAt"
       FROM ${this.t} WHERE site_number = $1 AND status = 'held' ORDER BY seq LIMIT $2`,
      [siteNumber, limit],
    );
  }

  /**
   * Records, before the write is sent, that these commands may be in the EMR from now on (the
   * latest send: the one an EMR may still be filing).
   */
  async markWriting(db: Db, siteNumber: string, commandIds: string[]): Promise<void> {
    await db.query(
      `UPDATE ${this.t} SET write_started_at = clock_timestamp()
       WHERE site_number = $1 AND command_id = ANY($2::uuid[]) AND status = 'pending'`,
      [siteNumber, commandIds],
    );
  }

  /**
   * A write sent less than `inFlightMs` ago may still be filed by the EMR (its sender crashed or
   * gave up waiting): the command waits until then, without counting an attempt, so that its read-
   * back sees the chart as that write left it. False when every write has had its time.
   */
  async waitForWriteInFlight(
    db: Db,
    siteNumber: string,
    commandIds: string[],
    inFlightMs: number,
  ): Promise<boolean> {
    const result: unknown[] = await db.query(
      `UPDATE ${this.t} c SET next_attempt_at = w.settled
       FROM (SELECT max(write_started_at) + ($3::bigint * interval '1 millisecond') AS settled
             FROM ${this.t} WHERE site_number = $1 AND command_id = ANY($2::uuid[])) w
       WHERE c.site_number = $1 AND c.command_id = ANY($2::uuid[]) AND c.status = 'pending'
         AND w.settled > clock_timestamp()
       RETURNING c.command_id`,
      [siteNumber, commandIds, inFlightMs],
    );
    return rows(result).length > 0;
  }

  async markDone(
    db: Db,
    siteNumber: string,
    commandIds: string[],
    outcome: 'applied' | 'skipped',
    emrRecordId: string | null,
    combinedInto: string | null,
  ): Promise<void> {
    await db.query(
      `UPDATE ${this.t} SET status = $3, applied_at = now(), emr_record_id = $4, combined_into = $5, last_error = NULL
       WHERE site_number = $1 AND command_id = ANY($2::uuid[]) AND status = 'pending'`,
      [siteNumber, commandIds, outcome, emrRecordId, combinedInto],
    );
  }

  async scheduleRetry(
    db: Db,
    siteNumber: string,
    commandId: string,
    delayMs: number,
    error: string,
    writeRefused = false,
  ): Promise<void> {
    await db.query(
      `UPDATE ${this.t} SET attempts = attempts + 1, first_failed_at = COALESCE(first_failed_at, now()),
         next_attempt_at = now() + ($3::bigint * interval '1 millisecond'), last_error = $4,
         write_started_at = CASE WHEN $5 THEN NULL ELSE write_started_at END
       WHERE site_number = $1 AND command_id = $2`,
      [siteNumber, commandId, delayMs, error, writeRefused],
    );
  }

  async deadLetter(db: Db, siteNumber: string, commandIds: string[], error: string): Promise<void> {
    await db.query(
      `UPDATE ${this.t} SET status = 'dead', attempts = attempts + 1, last_error = $3
       WHERE site_number = $1 AND command_id = ANY($2::uuid[]) AND status = 'pending'`,
      [siteNumber, commandIds, error],
    );
  }

  /** After an outage ends, the site's waiting commands are due now rather than at their next try. */
  async wakeSite(db: Db, siteNumber: string): Promise<void> {
    await db.query(
      `UPDATE ${this.t} SET next_attempt_at = now() WHERE site_number = $1 AND status = 'pending' AND next_attempt_at > now()`,
      [siteNumber],
    );
  }

  /** Pending commands of the site that have failed at least once. */
  async failingCount(db: Db, siteNumber: string): Promise<number> {
    const result: { n: string }[] = await db.query(
      `SELECT count(*) AS n FROM ${this.t} WHERE site_number = $1 AND status = 'pending' AND first_failed_at IS NOT NULL`,
      [siteNumber],
    );
    return Number(result[0]?.n ?? 0);
  }

  /** Operator replay of a dead letter: pending again, due now, with a fresh retry horizon. */
  async replay(db: Db, siteNumber: string, commandId: string): Promise<boolean> {
    const result: unknown[] = await db.query(
      `UPDATE ${this.t} SET status = 'pending', attempts = 0, first_failed_at = NULL, next_attempt_at = now()
       WHERE site_number = $1 AND command_id = $2 AND status = 'dead' RETURNING command_id`,
      [siteNumber, commandId],
    );
    return rows(result).length > 0;
  }

  async deadLetters(db: Db, siteNumber: string, limit = 100): Promise<Record<string, unknown>[]> {
    return db.query(
      `SELECT command_id AS "commandId", kind, patient_key AS "patientKey", attempts, last_error AS "lastError",
         received_at AS "receivedAt" FROM ${this.t} WHERE site_number = $1 AND status = 'dead' ORDER BY seq LIMIT $2`,
      [siteNumber, limit],
    );
  }

  async stats(db: Db, siteNumber: string): Promise<QueueStats> {
    const all = await this.statsQuery(db, siteNumber);
    return all[0] ?? { siteNumber, pending: 0, oldestPendingSeconds: 0, dead: 0, held: 0 };
  }

  statsAcrossSites(db: Db): Promise<QueueStats[]> {
    return this.statsQuery(db, null);
  }

  private async statsQuery(db: Db, siteNumber: string | null): Promise<QueueStats[]> {
    const result: Record<string, unknown>[] = await db.query(
      `SELECT site_number,
         count(*) FILTER (WHERE status = 'pending') AS pending,
         COALESCE(EXTRACT(EPOCH FROM now() - min(received_at) FILTER (WHERE status = 'pending')), 0) AS oldest,
         count(*) FILTER (WHERE status = 'dead') AS dead,
         count(*) FILTER (WHERE status = 'held') AS held
       FROM ${this.t} WHERE ($1::text IS NULL OR site_number = $1) AND status IN ('pending', 'dead', 'held')
       GROUP BY site_number`,
      [siteNumber],
    );
    return result.map((r) => ({
      siteNumber: String(r['site_number']),
      pending: Number(r['pending']),
      oldestPendingSeconds: Math.round(Number(r['oldest'])),
      dead: Number(r['dead']),
      held: Number(r['held']),
    }));
  }

  /** Tests and the status API: what happened to one command. */
  async state(db: Db, siteNumber: string, commandId: string): Promise<Record<string, unknown> | null> {
    const result: Record<string, unknown>[] = await db.query(
      `SELECT status, kind, attempts, last_error AS "lastError", emr_record_id AS "emrRecordId", combined_into AS "combinedInto",
         hold_reason AS "holdReason", source_ref AS "source"
       FROM ${this.t} WHERE site_number = $1 AND command_id = $2`,
      [siteNumber, commandId],
    );
    return result[0] ?? null;
  }
}
