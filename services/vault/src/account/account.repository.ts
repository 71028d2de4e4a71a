import type { SiteRole } from '@cloud-connect/auth';
import { schemaOf } from '@cloud-connect/db';
import type { DataSource, EntityManager } from 'typeorm';
import type { SiteAdmin } from './account.schemas';

export interface AccountToken {
  id: string;
  userId: string;
  siteNumber: string;
  purpose: 'invite' | 'reset';
  expired: boolean;
  used: boolean;
}

/** The only SQL of the site-account use cases: a site's people and the one-time password links. */
export class AccountRepository {
  private readonly s: string;

  constructor(dataSource: DataSource) {
    this.s = schemaOf(dataSource);
  }

  async peopleOf(tx: EntityManager, siteNumber: string): Promise<SiteAdmin[]> {
    const rows: { id: string; email: string; role: SiteRole; disabled: boolean; granted_at: Date }[] =
      await tx.query(
        `SELECT u.id, u.email, r.role, u.disabled, r.granted_at
           FROM "${this.s}".site_roles r JOIN "${this.s}".users u ON u.id = r.user_id
          WHERE r.site_number = $1 ORDER BY lower(u.email)`,
        [siteNumber],
      );
    return rows.map((r) => ({
      userId: r.id,
      email: r.email,
      role: r.role,
      status: r.disabled ? 'invited' : 'active',
      grantedAt: r.granted_at.toISOString(),
    }));
  }

  /** The person's role at this site, or null when they hold none there (per-site isolation). */
  async memberOf(
    tx: EntityManager,
    siteNumber: string,
    userId: string,
  ): Promise<{ email: string; role: SiteRole; disabled: boolean } | null> {
    const rows: { email: string; role: SiteRole; disabled: boolean }[] = await tx.query(
      `SELECT u.email, r.role, u.disabled FROM "${this.s}".site_roles r JOIN "${this.s}".users u ON u.id = r.user_id
        WHERE r.site_number = $1 AND r.user_id = $2`,
      [siteNumber, userId],
    );
    return rows[0] ?? null;
  }

  /** Locks the site's admin rows (in a transaction) and counts them: the last one is never removed. */
  async lockAdmins(tx: EntityManager, siteNumber: string): Promise<string[]> {
    const rows: { user_id: string }[] = await tx.query(
      `SELECT user_id FROM "${this.s}".site_roles WHERE site_number = $1 AND role = 'admin' FOR UPDATE`,
      [siteNumber],
    );
    return rows.map((r) => r.user_id);
  }

  async revoke(tx: EntityManager, siteNumber: string, userId: string): Promise<void> {
    await tx.query(`DELETE FROM "${this.s}".site_roles WHERE site_number = $1 AND user_id = $2`, [
      siteNumber,
      userId,
    ]);
    // Links this site issued to the person no longer work.
    await tx.query(
      `UPDATE "${this.s}".account_tokens SET used_at = now()
        WHERE site_number = $1 AND user_id = $2 AND used_at IS NULL`,
      [siteNumber, userId],
    );
  }

  async insertToken(
    tx: EntityManager,
    token: {
      id: string;
      userId: string;
      siteNumber: string;
      purpose: 'invite' | 'reset';
      tokenHash: string;
      ttlSeconds: number;
      createdBy: string;
    },
  ): Promise<void> {
    await tx.query(
      `INSERT INTO "${this.s}".account_tokens (id, user_id, site_number, purpose, token_hash, expires_at, created_by)
       VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6), $7)`,
      [
        token.id,
        token.userId,
        token.siteNumber,
        token.purpose,
        token.tokenHash,
        token.ttlSeconds,
        token.createdBy,
      ],
    );
  }

  /** Locks the token row: two uses of one link at once are serialized; the second sees it used. */
  async lockToken(tx: EntityManager, tokenHash: string): Promise<AccountToken | null> {
    const rows: AccountToken[] = await tx.query(
      `SELECT id, user_id AS "userId", site_number AS "siteNumber", purpose,
              expires_at <= now() AS expired, used_at IS NOT NULL AS used
         FROM "${this.s}".account_tokens WHERE token_hash = $1 FOR UPDATE`,
      [tokenHash],
    );
    return rows[0] ?? null;
  }

  /** Uses every open link of the person (the one just used, and any older ones). */
  async useTokensOf(tx: EntityManager, userId: string): Promise<void> {
    await tx.query(
      `UPDATE "${this.s}".account_tokens SET used_at = now() WHERE user_id = $1 AND used_at IS NULL`,
      [userId],
    );
  }

  async setPassword(tx: EntityManager, userId: string, passwordHash: string): Promise<string> {
    const rows: [{ email: string }[], number] = await tx.query(
      `UPDATE "${this.s}".users SET password_hash = $2, disabled = false WHERE id = $1 RETURNING email`,
      [userId, passwordHash],
    );
    const email = rows[0][0]?.email;
    if (!email) throw new Error('user vanished while setting the password');
    return email;
  }

  /** The first site (by number) where the person holds a role: the language of their e-mails. */
  async firstSiteOf(tx: EntityManager, userId: string): Promise<string | null> {
    const rows: { site_number: string }[] = await tx.query(
      `SELECT site_number FROM "${this.s}".site_roles WHERE user_id = $1 ORDER BY site_number LIMIT 1`,
      [userId],
    );
    return rows[0]?.site_number ?? null;
  }

  async updateSite(
    tx: EntityManager,
    siteNumber: string,
    change: { name?: string; clinicalAdminEmail?: string | null; locale?: string; timezone?: string },
  ): Promise<void> {
    const sets: string[] = [];
    const values: unknown[] = [siteNumber];
    const column = {
      name: 'name',
      clinicalAdminEmail: 'clinical_admin_email',
      locale: 'locale',
      timezone: 'timezone',
    };
    for (const [key, col] of Object.entries(column)) {
      const value = change[key as keyof typeof change];
      if (value === undefined) continue;
      values.push(value);
      sets.push(`${col} = $${values.length}`);
    }
    if (sets.length === 0) return;
    await tx.query(`UPDATE "${this.s}".sites SET ${sets.join(', ')} WHERE site_number = $1`, values);
  }
}
