import { assertIdentifier } from '@cloud-connect/db';
import type { JSONWebKeySet } from 'jose';
import type { EntityManager } from 'typeorm';

/** What SQL runs on: the data source's manager or a transaction's. */
export type Db = Pick<EntityManager, 'query'>;

export interface OAuthClientView {
  clientId: string;
  siteNumber: string;
  name: string;
  scopes: string[];
  jwks: JSONWebKeySet | null;
  jwksUrl: string | null;
  revokedAt: string | null;
  createdBy: string;
  createdAt: string;
  secrets: { id: string; hint: string; createdAt: string; expiresAt: string | null }[];
}

export interface SecretRow {
  id: string;
  hash: string;
}

type Row = Record<string, unknown>;
const UNIQUE_VIOLATION = '23505';
const iso = (value: unknown): string | null => (value instanceof Date ? value.toISOString() : null);

/** The only SQL on the oauth_* client tables; every method takes the site number. */
export class OAuthClientsRepository {
  private readonly s: string;

  constructor(schema: string) {
    this.s = `"${assertIdentifier(schema)}"`;
  }

  async insert(
    tx: Db,
    siteNumber: string,
    row: {
      clientId: string;
      name: string;
      scopes: string[];
      jwks: JSONWebKeySet | null;
      jwksUrl: string | null;
      createdBy: string;
    },
  ): Promise<'created' | 'exists'> {
    try {
      await tx.query(
        `INSERT INTO ${this.s}.oauth_clients (client_id, site_number, name, scopes, jwks, jwks_url, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          row.clientId,
          siteNumber,
          row.name,
          row.scopes,
          row.jwks ? JSON.stringify(row.jwks) : null,
          row.jwksUrl,
          row.createdBy,
        ],
      );
      return 'created';
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) return 'exists';
      throw error;
    }
  }

  async addSecret(
    tx: Db,
    siteNumber: string,
    clientId: string,
    secret: { id: string; hash: string; hint: string },
  ): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.s}.oauth_client_secrets (id, client_id, site_number, secret_hash, hint) VALUES ($1, $2, $3, $4, $5)`,
      [secret.id, clientId, siteNumber, secret.hash, secret.hint],
    );
  }

  /** Old secrets of a client that have no expiry yet expire after `overlapSeconds`. */
  async expireSecrets(
    tx: Db,
    siteNumber: string,
    clientId: string,
    overlapSeconds: number,
    except: string,
  ): Promise<void> {
    await tx.query(
      `UPDATE ${this.s}.oauth_client_secrets SET expires_at = now() + make_interval(secs => $4)
        WHERE site_number = $1 AND client_id = $2 AND id <> $3 AND (expires_at IS NULL OR expires_at > now() + make_interval(secs => $4))`,
      [siteNumber, clientId, except, overlapSeconds],
    );
  }

  async revoke(tx: Db, siteNumber: string, clientId: string): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `UPDATE ${this.s}.oauth_clients SET revoked_at = now() WHERE site_number = $1 AND client_id = $2 AND revoked_at IS NULL RETURNING client_id`,
      [siteNumber, clientId],
    );
    return rows.length > 0;
  }

  async list(db: Db, siteNumber: string, clientId?: string): Promise<OAuthClientView[]> {
    const rows: Row[] = await db.query(
      `SELECT c.client_id, c.site_number, c.name, c.scopes, c.jwks, c.jwks_url, c.revoked_at, c.created_by, c.created_at,
              coalesce(json_agg(json_build_object('id', s.id, 'hint', s.hint, 'createdAt', s.created_at, 'expiresAt', s.expires_at)
                ORDER BY s.created_at) FILTER (WHERE s.id IS NOT NULL AND (s.expires_at IS NULL OR s.expires_at > now())), '[]') AS secrets
         FROM ${this.s}.oauth_clients c
         LEFT JOIN ${this.s}.oauth_client_secrets s ON s.site_number = c.site_number AND s.client_id = c.client_id
        WHERE c.site_number = $1 AND ($2::text IS NULL OR c.client_id = $2)
        GROUP BY c.client_id ORDER BY c.created_at, c.client_id`,
      [siteNumber, clientId ?? null],
    );
    return rows.map((r) => ({
      clientId: String(r['client_id']),
      siteNumber: String(r['site_number']),
      name: String(r['name']),
      scopes: r['scopes'] as string[],
      jwks: (r['jwks'] as JSONWebKeySet | null) ?? null,
      jwksUrl: (r['jwks_url'] as string | null) ?? null,
      revokedAt: iso(r['revoked_at']),
      createdBy: String(r['created_by']),
      createdAt: iso(r['created_at']) ?? '',
      secrets: (
        r['secrets'] as { id: string; hint: string; createdAt: string; expiresAt: string | null }[]
      ).map((s) => ({
        id: s.id,
        hint: s.hint,
        createdAt: new Date(s.createdAt).toISOString(),
        expiresAt: s.expiresAt ? new Date(s.expiresAt).toISOString() : null,
      })),
    }));
  }

  /** The client's currently valid secret hashes, only while the client is not revoked. */
  async validSecrets(db: Db, siteNumber: string, clientId: string): Promise<SecretRow[]> {
    const rows: Row[] = await db.query(
      `SELECT s.id, s.secret_hash FROM ${this.s}.oauth_client_secrets s
         JOIN ${this.s}.oauth_clients c ON c.site_number = s.site_number AND c.client_id = s.client_id
        WHERE s.site_number = $1 AND s.client_id = $2 AND c.revoked_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > now())
        ORDER BY s.created_at DESC`,
      [siteNumber, clientId],
    );
    return rows.map((r) => ({ id: String(r['id']), hash: String(r['secret_hash']) }));
  }

  /** Records an assertion id; false when the client already used it (a replay). */
  async useAssertion(
    tx: Db,
    siteNumber: string,
    clientId: string,
    jti: string,
    expiresAt: Date,
  ): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `INSERT INTO ${this.s}.oauth_used_assertions (site_number, client_id, jti, expires_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING RETURNING jti`,
      [siteNumber, clientId, jti, expiresAt],
    );
    return rows.length > 0;
  }

  /** Forgets assertion ids past their expiry (they could no longer be accepted anyway). */
  async purgeExpiredAssertions(db: Db, siteNumber: string | null): Promise<void> {
    await db.query(
      `DELETE FROM ${this.s}.oauth_used_assertions WHERE expires_at < now() AND ($1::text IS NULL OR site_number = $1)`,
      [siteNumber],
    );
  }
}
