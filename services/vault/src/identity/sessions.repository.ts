import { schemaOf } from '@cloud-connect/db';
import type { DataSource, EntityManager } from 'typeorm';

export type AuthMethod = 'pwd' | 'otp';

export interface SessionRecord {
  id: string;
  userId: string;
  amr: AuthMethod[];
  /** Seconds since the epoch of the last password (and code) check. */
  authTime: number;
  revoked: boolean;
}

export interface SessionListing {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  sourceAddress: string;
  userAgent: string | null;
  signedInWith: AuthMethod[];
}

interface SessionRow {
  id: string;
  user_id: string;
  amr: AuthMethod[];
  auth_time: Date;
  revoked_at: Date | null;
}

const record = (row: SessionRow): SessionRecord => ({
  id: row.id,
  userId: row.user_id,
  amr: row.amr,
  authTime: Math.floor(row.auth_time.getTime() / 1000),
  revoked: row.revoked_at !== null,
});

/**
 * The only SQL on sign-in sessions, the TOTP factor's state and recovery codes. These belong to
 * a person, not to a site: every method takes the user id, the isolation boundary here.
 */
export class SessionsRepository {
  private readonly s: string;

  constructor(dataSource: DataSource) {
    this.s = schemaOf(dataSource);
  }

  async create(
    tx: EntityManager,
    session: {
      id: string;
      userId: string;
      refreshHash: string;
      amr: AuthMethod[];
      authTime: number;
      sourceAddress: string;
      userAgent: string | null;
    },
  ): Promise<void> {
    await tx.query(
      `INSERT INTO "${this.s}".admin_sessions (id, user_id, refresh_hash, amr, auth_time, source_address, user_agent)
       VALUES ($1, $2, $3, $4, to_timestamp($5), $6, $7)`,
      [
        session.id,
        session.userId,
        session.refreshHash,
        session.amr,
        session.authTime,
        session.sourceAddress,
        session.userAgent,
      ],
    );
  }

  async isActive(tx: EntityManager, userId: string, id: string): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `SELECT 1 FROM "${this.s}".admin_sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`,
      [id, userId],
    );
    return rows.length > 0;
  }

  async find(tx: EntityManager, userId: string, id: string): Promise<SessionRecord | null> {
    const rows: SessionRow[] = await tx.query(
      `SELECT id, user_id, amr, auth_time, revoked_at FROM "${this.s}".admin_sessions WHERE id = $1 AND user_id = $2`,
      [id, userId],
    );
    return rows[0] ? record(rows[0]) : null;
  }

  /** The session a refresh token belongs to (by its SHA-256), locked for the refresh. */
  async lockByRefresh(tx: EntityManager, refreshHash: string): Promise<SessionRecord | null> {
    const rows: SessionRow[] = await tx.query(
      `SELECT id, user_id, amr, auth_time, revoked_at FROM "${this.s}".admin_sessions
        WHERE refresh_hash = $1 FOR UPDATE`,
      [refreshHash],
    );
    return rows[0] ? record(rows[0]) : null;
  }

  async touch(tx: EntityManager, userId: string, id: string): Promise<void> {
    await tx.query(
      `UPDATE "${this.s}".admin_sessions SET last_seen_at = now() WHERE id = $1 AND user_id = $2`,
      [id, userId],
    );
  }

  /** A fresh password (and code) check within the session: the step-up. */
  async reauthenticated(
    tx: EntityManager,
    userId: string,
    id: string,
    amr: AuthMethod[],
    authTime: number,
  ): Promise<boolean> {
    const rows: [unknown[], number] = await tx.query(
      `UPDATE "${this.s}".admin_sessions SET amr = $3, auth_time = to_timestamp($4), last_seen_at = now()
        WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id`,
      [id, userId, amr, authTime],
    );
    return rows[1] > 0;
  }

  async listOpen(tx: EntityManager, userId: string): Promise<SessionListing[]> {
    const rows: {
      id: string;
      created_at: Date;
      last_seen_at: Date;
      source_address: string;
      user_agent: string | null;
      amr: AuthMethod[];
    }[] = await tx.query(
      `SELECT id, created_at, last_seen_at, source_address, user_agent, amr FROM "${this.s}".admin_sessions
        WHERE user_id = $1 AND revoked_at IS NULL ORDER BY last_seen_at DESC LIMIT 100`,
      [userId],
    );
    return rows.map((r) => ({
      id: r.id,
      createdAt: r.created_at.toISOString(),
      lastSeenAt: r.last_seen_at.toISOString(),
      sourceAddress: r.source_address,
      userAgent: r.user_agent,
      signedInWith: r.amr,
    }));
  }

  /** Revokes one of the person's sessions; false when there is no such open session of theirs. */
  async revoke(tx: EntityManager, userId: string, id: string, reason: string): Promise<boolean> {
    const rows: [unknown[], number] = await tx.query(
      `UPDATE "${this.s}".admin_sessions SET revoked_at = now(), revoked_reason = $3
        WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id`,
      [id, userId, reason],
    );
    return rows[1] > 0;
  }

  /** Revokes every open session of the person (but `keep`, when given); returns how many. */
  async revokeAll(tx: EntityManager, userId: string, reason: string, keep?: string): Promise<number> {
    const rows: [unknown[], number] = await tx.query(
      `UPDATE "${this.s}".admin_sessions SET revoked_at = now(), revoked_reason = $2
        WHERE user_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3::uuid) RETURNING id`,
      [userId, reason, keep ?? null],
    );
    return rows[1];
  }

  // ---- TOTP factor ------------------------------------------------------------------------

  async totpState(
    tx: EntityManager,
    userId: string,
    lock = false,
  ): Promise<{ state: 'pending' | 'active'; lastStep: number } | null> {
    const rows: { state: 'pending' | 'active'; last_step: string }[] = await tx.query(
      `SELECT state, last_step FROM "${this.s}".admin_totp WHERE user_id = $1${lock ? ' FOR UPDATE' : ''}`,
      [userId],
    );
    const row = rows[0];
    return row ? { state: row.state, lastStep: Number(row.last_step) } : null;
  }

  async startTotp(tx: EntityManager, userId: string): Promise<void> {
    await tx.query(
      `INSERT INTO "${this.s}".admin_totp (user_id, state) VALUES ($1, 'pending')
       ON CONFLICT (user_id) DO UPDATE SET state = 'pending', last_step = 0, created_at = now(), confirmed_at = NULL`,
      [userId],
    );
  }

  async activateTotp(tx: EntityManager, userId: string, step: number): Promise<void> {
    await tx.query(
      `UPDATE "${this.s}".admin_totp SET state = 'active', last_step = $2, confirmed_at = now() WHERE user_id = $1`,
      [userId, step],
    );
  }

  async useStep(tx: EntityManager, userId: string, step: number): Promise<void> {
    await tx.query(`UPDATE "${this.s}".admin_totp SET last_step = $2 WHERE user_id = $1`, [userId, step]);
  }

  async replaceRecoveryCodes(tx: EntityManager, userId: string, hashes: string[]): Promise<void> {
    await tx.query(`DELETE FROM "${this.s}".admin_recovery_codes WHERE user_id = $1`, [userId]);
    await tx.query(
      `INSERT INTO "${this.s}".admin_recovery_codes (user_id, code_hash) SELECT $1, unnest($2::text[])`,
      [userId, hashes],
    );
  }

  /** Uses a recovery code: true once per code, false when unknown or already used. */
  async useRecoveryCode(tx: EntityManager, userId: string, hash: string): Promise<boolean> {
    const rows: [unknown[], number] = await tx.query(
      `UPDATE "${this.s}".admin_recovery_codes SET used_at = now()
        WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING code_hash`,
      [userId, hash],
    );
    return rows[1] > 0;
  }

  async recoveryCodesLeft(tx: EntityManager, userId: string): Promise<number> {
    const rows: { n: number }[] = await tx.query(
      `SELECT count(*)::int AS n FROM "${this.s}".admin_recovery_codes WHERE user_id = $1 AND used_at IS NULL`,
      [userId],
    );
    return rows[0]?.n ?? 0;
  }
}
