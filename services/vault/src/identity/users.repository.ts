import type { SiteRole } from '@cloud-connect/auth';
import { schemaOf } from '@cloud-connect/db';
import type { DataSource, EntityManager } from 'typeorm';

export interface UserRecord {
  id: string;
  email: string;
  passwordHash: string;
  disabled: boolean;
}

const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';

/** The only SQL on users and their per-site roles. */
export class UsersRepository {
  private readonly s: string;

  constructor(dataSource: DataSource) {
    this.s = schemaOf(dataSource);
  }

  async insert(tx: EntityManager, user: UserRecord): Promise<'created' | 'exists'> {
    try {
      await tx.query(
        `INSERT INTO "${this.s}".users (id, email, password_hash, disabled) VALUES ($1, $2, $3, $4)`,
        [user.id, user.email, user.passwordHash, user.disabled],
      );
      return 'created';
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) return 'exists';
      throw error;
    }
  }

  async findByEmail(tx: EntityManager, email: string): Promise<UserRecord | null> {
    const rows: { id: string; email: string; password_hash: string; disabled: boolean }[] = await tx.query(
      `SELECT id, email, password_hash, disabled FROM "${this.s}".users WHERE lower(email) = lower($1)`,
      [email],
    );
    const row = rows[0];
    return row
      ? { id: row.id, email: row.email, passwordHash: row.password_hash, disabled: row.disabled }
      : null;
  }

  async findById(tx: EntityManager, id: string): Promise<UserRecord | null> {
    const rows: { id: string; email: string; password_hash: string; disabled: boolean }[] = await tx.query(
      `SELECT id, email, password_hash, disabled FROM "${this.s}".users WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    return row
      ? { id: row.id, email: row.email, passwordHash: row.password_hash, disabled: row.disabled }
      : null;
  }

  async setPassword(tx: EntityManager, userId: string, passwordHash: string): Promise<void> {
    await tx.query(`UPDATE "${this.s}".users SET password_hash = $2 WHERE id = $1`, [userId, passwordHash]);
  }

  /** Grants (or changes) the user's role at a site; 'no-site' if the site does not exist. */
  async grant(
    tx: EntityManager,
    userId: string,
    siteNumber: string,
    role: SiteRole,
  ): Promise<'granted' | 'no-site'> {
    try {
      await tx.query(
        `INSERT INTO "${this.s}".site_roles (user_id, site_number, role) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, site_number) DO UPDATE SET role = EXCLUDED.role, granted_at = now()`,
        [userId, siteNumber, role],
      );
      return 'granted';
    } catch (error) {
      if ((error as { code?: string }).code === FOREIGN_KEY_VIOLATION) return 'no-site';
      throw error;
    }
  }

  async rolesOf(tx: EntityManager, userId: string): Promise<Record<string, SiteRole>> {
    const rows: { site_number: string; role: SiteRole }[] = await tx.query(
      `SELECT site_number, role FROM "${this.s}".site_roles WHERE user_id = $1`,
      [userId],
    );
    return Object.fromEntries(rows.map((r) => [r.site_number, r.role]));
  }
}
