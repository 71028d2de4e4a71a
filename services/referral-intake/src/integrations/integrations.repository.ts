import { schemaTables, type SchemaTables } from '@cloud-connect/db';
import type { EntityManager } from 'typeorm';
import type { IntegrationKeySummary, IntegrationView } from './integration';

/** What SQL runs on: the data source's manager or a transaction's. */
export type Db = Pick<EntityManager, 'query'>;

export interface NewIntegrationRow {
  id: string;
  siteNumber: string;
  name: string;
  authHeaderName: string;
  requestUrl: string | null;
  sendCopies: boolean;
  outboundKeyCiphertext: Buffer | null;
  rateLimitPerSecond: number | null;
  createdBy: string;
}

export interface NewKeyRow {
  id: string;
  integrationId: string;
  siteNumber: string;
  keyHash: Buffer;
  keyHint: string;
  origin: 'generated' | 'supplied';
}

/** What the inbound path needs from a key lookup. */
export interface KeyMatch {
  keyHash: Buffer;
  /** The header the integration's key must arrive in. */
  authHeaderName: string;
  integrationId: string;
  siteNumber: string;
  enabled: boolean;
  rateLimitPerSecond: number | null;
  /** It gets a copy of each new referral of its site (so it is one of their receivers). */
  sendCopies: boolean;
  /** When the key stops being accepted (a rotated key's grace period), or null. */
  expiresAt: Date | null;
}

export interface CopyTarget {
  id: string;
  authHeaderName: string;
  requestUrl: string;
  outboundKeyCiphertext: Buffer;
}

type Row = Record<string, unknown>;
const UNIQUE_VIOLATION = '23505';

function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

/**
 * The only SQL on `integrations` and `integration_keys`. Every method takes the site number,
 * except `findByKeyHash`: on the inbound path the key is what tells us the site.
 */
export class IntegrationsRepository {
  private readonly tables: SchemaTables<'integrations' | 'keys'>;

  constructor(schema: string) {
    this.tables = schemaTables(schema, { integrations: 'integrations', keys: 'integration_keys' });
  }

  async insert(tx: Db, row: NewIntegrationRow): Promise<'created' | 'exists'> {
    try {
      await tx.query(
        `INSERT INTO ${this.tables.integrations} (id, site_number, name, type, payload_type, auth_header_name,
           request_url, send_copies, outbound_key_ciphertext, rate_limit_per_second, created_by)
         VALUES ($1, $2, $3, 'ereferral', 'fhir-r4-ereferral-0.11.1', $4, $5, $6, $7, $8, $9)`,
        [
          row.id,
          row.siteNumber,
          row.name,
          row.authHeaderName,
          row.requestUrl,
          row.sendCopies,
          row.outboundKeyCiphertext,
          row.rateLimitPerSecond,
          row.createdBy,
        ],
      );
      return 'created';
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) return 'exists';
      throw error;
    }
  }

  /** 'taken' when the very same key is already registered (to any integration, any site). */
  async insertKey(tx: Db, siteNumber: string, key: NewKeyRow): Promise<'created' | 'taken'> {
    try {
      await tx.query(
        `INSERT INTO ${this.tables.keys} (id, integration_id, site_number, key_hash, key_hint, origin)
         SELECT $1, id, site_number, $3, $4, $5 FROM ${this.tables.integrations} WHERE id = $2 AND site_number = $6`,
        [key.id, key.integrationId, key.keyHash, key.keyHint, key.origin, siteNumber],
      );
      return 'created';
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) return 'taken';
      throw error;
    }
  }

  /** Active keys of the integration stop working at `until` (or keep an earlier expiry). */
  async expireActiveKeys(tx: Db, siteNumber: string, integrationId: string, until: Date): Promise<void> {
    await tx.query(
      `UPDATE ${this.tables.keys} SET expires_at = LEAST(COALESCE(expires_at, $3), $3)
        WHERE site_number = $1 AND integration_id = $2 AND (expires_at IS NULL OR expires_at > now())`,
      [siteNumber, integrationId, until],
    );
  }

  async setEnabled(tx: Db, siteNumber: string, integrationId: string, enabled: boolean): Promise<boolean> {
    // TypeORM answers an UPDATE with [rows, affected count].
    const [, affected]: [unknown[], number] = await tx.query(
      `UPDATE ${this.tables.integrations} SET enabled = $3, updated_at = now() WHERE site_number = $1 AND id = $2`,
      [siteNumber, integrationId, enabled],
    );
    return affected > 0;
  }

  async find(db: Db, siteNumber: string, integrationId: string): Promise<IntegrationView | null> {
    const list = await this.select(db, siteNumber, integrationId);
    return list[0] ?? null;
  }

  list(db: Db, siteNumber: string): Promise<IntegrationView[]> {
    return this.select(db, siteNumber, null);
  }

  async findByKeyHash(db: Db, keyHash: Buffer): Promise<KeyMatch | null> {
    const rows: Row[] = await db.query(
      `SELECT k.key_hash, i.id, i.site_number, i.enabled, i.rate_limit_per_second, i.send_copies, i.auth_header_name,
            k.expires_at
         FROM ${this.tables.keys} k JOIN ${this.tables.integrations} i ON i.id = k.integration_id
        WHERE k.key_hash = $1 AND (k.expires_at IS NULL OR k.expires_at > now())`,
      [keyHash],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      keyHash: row['key_hash'] as Buffer,
      authHeaderName: String(row['auth_header_name']),
      integrationId: String(row['id']),
      siteNumber: String(row['site_number']),
      enabled: Boolean(row['enabled']),
      rateLimitPerSecond: row['rate_limit_per_second'] === null ? null : Number(row['rate_limit_per_second']),
      sendCopies: Boolean(row['send_copies']),
      expiresAt: row['expires_at'] ? new Date(row['expires_at'] as string) : null,
    };
  }

  /** Header names integrations registered (all sites): where the inbound path looks for a key. */
  async headerNames(db: Db): Promise<string[]> {
    const rows: Row[] = await db.query(`SELECT DISTINCT auth_header_name FROM ${this.tables.integrations}`);
    return rows.map((r) => String(r['auth_header_name']));
  }

  /** Enabled integrations of the site that want a copy of each new referral (not the sender). */
  async copyTargets(db: Db, siteNumber: string, exceptIntegrationId: string): Promise<string[]> {
    const rows: Row[] = await db.query(
      `SELECT id FROM ${this.tables.integrations}
        WHERE site_number = $1 AND send_copies AND enabled AND id <> $2 ORDER BY created_at`,
      [siteNumber, exceptIntegrationId],
    );
    return rows.map((r) => String(r['id']));
  }

  async copyTarget(db: Db, siteNumber: string, integrationId: string): Promise<CopyTarget | null> {
    const rows: Row[] = await db.query(
      `SELECT id, auth_header_name, request_url, outbound_key_ciphertext FROM ${this.tables.integrations}
        WHERE site_number = $1 AND id = $2 AND request_url IS NOT NULL AND outbound_key_ciphertext IS NOT NULL`,
      [siteNumber, integrationId],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      id: String(row['id']),
      authHeaderName: String(row['auth_header_name']),
      requestUrl: String(row['request_url']),
      outboundKeyCiphertext: row['outbound_key_ciphertext'] as Buffer,
    };
  }

  private async select(db: Db, siteNumber: string, integrationId: string | null): Promise<IntegrationView[]> {
    const rows: Row[] = await db.query(
      `SELECT id, site_number, name, type, payload_type, auth_header_name, request_url, send_copies,
              outbound_key_ciphertext IS NOT NULL AS has_outbound_key, enabled, rate_limit_per_second,
              created_by, created_at, updated_at
         FROM ${this.tables.integrations}
        WHERE site_number = $1 AND ($2::uuid IS NULL OR id = $2::uuid) ORDER BY created_at, name`,
      [siteNumber, integrationId],
    );
    if (rows.length === 0) return [];
    const keyRows: Row[] = await db.query(
      `SELECT id, integration_id, key_hint, origin, created_at, expires_at FROM ${this.tables.keys}
        WHERE site_number = $1 AND integration_id = ANY($2::uuid[]) ORDER BY created_at`,
      [siteNumber, rows.map((r) => String(r['id']))],
    );
    const keysOf = new Map<string, IntegrationKeySummary[]>();
    for (const k of keyRows) {
      const list = keysOf.get(String(k['integration_id'])) ?? [];
      list.push({
        id: String(k['id']),
        hint: String(k['key_hint']),
        origin: k['origin'] === 'supplied' ? 'supplied' : 'generated',
        createdAt: iso(k['created_at']),
        expiresAt: k['expires_at'] === null ? null : iso(k['expires_at']),
      });
      keysOf.set(String(k['integration_id']), list);
    }
    return rows.map((r) => ({
      id: String(r['id']),
      siteNumber: String(r['site_number']),
      name: String(r['name']),
      type: 'ereferral',
      payloadType: 'fhir-r4-ereferral-0.11.1',
      authHeaderName: String(r['auth_header_name']),
      requestUrl: typeof r['request_url'] === 'string' ? r['request_url'] : null,
      sendCopies: Boolean(r['send_copies']),
      hasOutboundKey: Boolean(r['has_outbound_key']),
      enabled: Boolean(r['enabled']),
      rateLimitPerSecond: r['rate_limit_per_second'] === null ? null : Number(r['rate_limit_per_second']),
      createdBy: String(r['created_by']),
      createdAt: iso(r['created_at']),
      updatedAt: iso(r['updated_at']),
      keys: keysOf.get(String(r['id'])) ?? [],
    }));
  }
}
