import { assertIdentifier } from '@cloud-connect/db';
import type { Db } from '../integrations/integrations.repository';

export interface NewReferralRow {
  id: string;
  siteNumber: string;
  /** Who sent it: an integration (API key) or, for status back, an OAuth client. Exactly one. */
  integrationId: string | null;
  oauthClientId?: string | null;
  bundleId: string;
  messageHeaderId: string;
  eventCode: string;
  serviceRequestId: string | null;
  contentSha256: Buffer;
  bundleCiphertext: Buffer;
  response: unknown;
  warnings: number;
  /** For referral-creating messages: the hash of the ServiceRequest's identifiers (echo suppression). */
  echoKey?: Buffer | null;
}

export interface StoredReferral {
  id: string;
  integrationId: string | null;
  contentSha256: Buffer;
  response: unknown;
}

type Row = Record<string, unknown>;

/** The only SQL on `referrals`; every method takes the site number. */
export class ReferralsRepository {
  private readonly table: string;

  constructor(schema: string) {
    this.table = `"${assertIdentifier(schema)}".referrals`;
  }

  /** Inserts unless the site already holds this Bundle id or MessageHeader id. */
  async insertIfNew(tx: Db, siteNumber: string, row: NewReferralRow): Promise<boolean> {
    const { text, values } = this.insertIfNewStatement(siteNumber, row);
    const rows: unknown[] = await tx.query(text, values);
    return rows.length > 0;
  }

  /**
   * The insert of `insertIfNew` as a statement (it returns the new row's id, or nothing when the
   * site already holds the message), for `OutboxWriter.enqueueIfReturned` to run with its event.
   */
  insertIfNewStatement(siteNumber: string, row: NewReferralRow): { text: string; values: unknown[] } {
    return {
      text: `INSERT INTO ${this.table} (id, site_number, integration_id, bundle_id, message_header_id, event_code,
         service_request_id, content_sha256, bundle_ciphertext, response, warnings, oauth_client_id, echo_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT DO NOTHING RETURNING id`,
      values: [
        row.id,
        siteNumber,
        row.integrationId,
        row.bundleId,
        row.messageHeaderId,
        row.eventCode,
        row.serviceRequestId,
        row.contentSha256,
        row.bundleCiphertext,
        JSON.stringify(row.response),
        row.warnings,
        row.oauthClientId ?? null,
        row.echoKey ?? null,
      ],
    };
  }

  /** The FHIR answer to replay for a stored message (set in the transaction that stored it). */
  async setResponse(
    tx: Db,
    siteNumber: string,
    id: string,
    response: unknown,
    warnings: number,
  ): Promise<void> {
    await tx.query(
      `UPDATE ${this.table} SET response = $3, warnings = $4 WHERE site_number = $1 AND id = $2`,
      [siteNumber, id, JSON.stringify(response), warnings],
    );
  }

  async findByMessageIds(
    db: Db,
    siteNumber: string,
    bundleId: string,
    messageHeaderId: string,
  ): Promise<StoredReferral[]> {
    const rows: Row[] = await db.query(
      `SELECT id, integration_id, content_sha256, response FROM ${this.table}
        WHERE site_number = $1 AND (bundle_id = $2 OR message_header_id = $3)`,
      [siteNumber, bundleId, messageHeaderId],
    );
    return rows.map((r) => ({
      id: String(r['id']),
      integrationId: typeof r['integration_id'] === 'string' ? r['integration_id'] : null,
      contentSha256: r['content_sha256'] as Buffer,
      response: JSON.parse(String(r['response'])) as unknown,
    }));
  }

  /** The referral the site already holds under this echo key (its Bundle.id), if any. */
  async findByEchoKey(db: Db, siteNumber: string, echoKey: Buffer): Promise<{ bundleId: string } | null> {
    const rows: Row[] = await db.query(
      `SELECT bundle_id FROM ${this.table} WHERE site_number = $1 AND echo_key = $2`,
      [siteNumber, echoKey],
    );
    return rows[0] ? { bundleId: String(rows[0]['bundle_id']) } : null;
  }

  async bundleCiphertext(db: Db, siteNumber: string, referralId: string): Promise<Buffer | null> {
    const rows: Row[] = await db.query(
      `SELECT bundle_ciphertext FROM ${this.table} WHERE site_number = $1 AND id = $2`,
      [siteNumber, referralId],
    );
    return (rows[0]?.['bundle_ciphertext'] as Buffer | undefined) ?? null;
  }

  async count(db: Db, siteNumber: string): Promise<number> {
    const rows: Row[] = await db.query(`SELECT count(*) AS n FROM ${this.table} WHERE site_number = $1`, [
      siteNumber,
    ]);
    return Number(rows[0]?.['n'] ?? 0);
  }
}
