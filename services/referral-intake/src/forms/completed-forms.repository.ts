import { assertIdentifier } from '@cloud-connect/db';

type Db = { query(sql: string, params?: unknown[]): Promise<unknown> };

export interface NewForm {
  id: string;
  clientId: string;
  formKey: string;
  kind: 'questionnaire' | 'web-form' | 'kiosk-check-in';
  contentSha256: Buffer;
  ciphertext: Buffer;
}

/** The only SQL on `completed_forms`; every method takes the site number. */
export class CompletedFormsRepository {
  private readonly table: string;

  constructor(schema: string) {
    this.table = `"${assertIdentifier(schema)}".completed_forms`;
  }

  async insertIfNew(tx: Db, siteNumber: string, form: NewForm): Promise<boolean> {
    const rows = (await tx.query(
      `INSERT INTO ${this.table} (id, site_number, oauth_client_id, form_key, kind, content_sha256, form_ciphertext)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id`,
      [form.id, siteNumber, form.clientId, form.formKey, form.kind, form.contentSha256, form.ciphertext],
    )) as unknown[];
    return rows.length > 0;
  }

  async findByKey(
    db: Db,
    siteNumber: string,
    formKey: string,
  ): Promise<{ id: string; contentSha256: Buffer } | null> {
    const rows = (await db.query(
      `SELECT id, content_sha256 FROM ${this.table} WHERE site_number = $1 AND form_key = $2`,
      [siteNumber, formKey],
    )) as { id: string; content_sha256: Buffer }[];
    const row = rows[0];
    return row ? { id: row.id, contentSha256: row.content_sha256 } : null;
  }

  async ciphertext(db: Db, siteNumber: string, id: string): Promise<Buffer | null> {
    const rows = (await db.query(
      `SELECT form_ciphertext FROM ${this.table} WHERE site_number = $1 AND id = $2`,
      [siteNumber, id],
    )) as { form_ciphertext: Buffer }[];
    return rows[0]?.form_ciphertext ?? null;
  }
}
