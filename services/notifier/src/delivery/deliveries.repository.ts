import { schemaOf } from '@cloud-connect/db';
import type { EntityManager } from 'typeorm';

export type DeliveryStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'dead-lettered';

export interface Delivery {
  notificationId: string;
  siteNumber: string;
  channel: 'email' | 'sms';
  template: string;
  locale: string;
  recipient: string;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  providerId: string | null;
  sentAt: string | null;
}

/** The columns of a `deliveries` row, named as the fields of a `Delivery`. */
const DELIVERY_COLUMNS = `notification_id AS "notificationId", site_number AS "siteNumber", channel, template, locale,
  recipient, status, attempts, last_error AS "lastError", provider_id AS "providerId", sent_at AS "sentAt"`;

/** A row read as `SELECT ${DELIVERY_COLUMNS}`: a `Delivery` whose `sentAt` is still a Date. */
type Row = Omit<Delivery, 'sentAt'> & { sentAt: Date | null };

function toDelivery({ sentAt, ...delivery }: Row): Delivery {
  return { ...delivery, sentAt: sentAt ? sentAt.toISOString() : null };
}

/** The only SQL on `deliveries`; every method takes the site number. */
export class DeliveriesRepository {
  /** Creates the row (queued) if new, then counts one more attempt; returns the row as it was. */
  async beginAttempt(
    tx: EntityManager,
    siteNumber: string,
    d: Pick<Delivery, 'notificationId' | 'channel' | 'template' | 'locale' | 'recipient'>,
  ): Promise<Delivery> {
    const s = schemaOf(tx.connection);
    await tx.query(
      `INSERT INTO "${s}".deliveries (notification_id, site_number, channel, template, locale, recipient, status)
       VALUES ($1, $2, $3, $4, $5, $6, 'queued') ON CONFLICT (notification_id) DO NOTHING`,
      [d.notificationId, siteNumber, d.channel, d.template, d.locale, d.recipient],
    );
    const rows: Row[] = await tx.query(
      `SELECT ${DELIVERY_COLUMNS} FROM "${s}".deliveries WHERE site_number = $1 AND notification_id = $2 FOR UPDATE`,
      [siteNumber, d.notificationId],
    );
    const row = rows[0];
    if (!row) throw new Error('delivery row vanished inside its own transaction');
    const before = toDelivery(row);
    if (before.status !== 'sent') {
      await tx.query(
        `UPDATE "${s}".deliveries SET status = 'sending', attempts = attempts + 1, updated_at = now()
         WHERE site_number = $1 AND notification_id = $2`,
        [siteNumber, d.notificationId],
      );
    }
    return before;
  }

  async markSent(tx: EntityManager, siteNumber: string, notificationId: string, providerId: string) {
    await this.update(tx, siteNumber, notificationId, {
      set: `status = 'sent', provider_id = $3, last_error = NULL, sent_at = now()`,
      params: [providerId],
    });
  }

  /** A failed attempt; `final` when it is not retried. A delivery already sent stays sent. */
  async markFailed(
    tx: EntityManager,
    siteNumber: string,
    notificationId: string,
    error: string,
    final: boolean,
  ) {
    await this.update(tx, siteNumber, notificationId, {
      set: 'status = $3, last_error = $4',
      params: [final ? 'dead-lettered' : 'failed', error.slice(0, 500)],
      where: ` AND status <> 'sent'`,
    });
  }

  /** Sets columns of one delivery (`set` numbers its parameters from $3) and its `updated_at`. */
  private async update(
    tx: EntityManager,
    siteNumber: string,
    notificationId: string,
    change: { set: string; params: unknown[]; where?: string },
  ): Promise<void> {
    await tx.query(
      `UPDATE "${schemaOf(tx.connection)}".deliveries SET ${change.set}, updated_at = now()
       WHERE site_number = $1 AND notification_id = $2${change.where ?? ''}`,
      [siteNumber, notificationId, ...change.params],
    );
  }

  async find(tx: EntityManager, siteNumber: string, notificationId: string): Promise<Delivery | null> {
    const s = schemaOf(tx.connection);
    const rows: Row[] = await tx.query(
      `SELECT ${DELIVERY_COLUMNS} FROM "${s}".deliveries WHERE site_number = $1 AND notification_id = $2`,
      [siteNumber, notificationId],
    );
    return rows[0] ? toDelivery(rows[0]) : null;
  }

  async list(tx: EntityManager, siteNumber: string, limit: number): Promise<Delivery[]> {
    const s = schemaOf(tx.connection);
    const rows: Row[] = await tx.query(
      `SELECT ${DELIVERY_COLUMNS} FROM "${s}".deliveries WHERE site_number = $1 ORDER BY created_at DESC LIMIT $2`,
      [siteNumber, limit],
    );
    return rows.map(toDelivery);
  }

  /** The provider's delivery receipt (status callback) for a sent SMS. */
  async setProviderStatus(
    tx: Pick<EntityManager, 'query' | 'connection'>,
    siteNumber: string,
    notificationId: string,
    status: string,
    errorCode: string | null,
  ): Promise<boolean> {
    const s = schemaOf(tx.connection);
    const rows: unknown[] = await tx.query(
      `UPDATE "${s}".deliveries SET provider_status = $3, provider_error = $4, updated_at = now()
        WHERE site_number = $1 AND notification_id = $2 RETURNING 1`,
      [siteNumber, notificationId, status.slice(0, 40), errorCode?.slice(0, 40) ?? null],
    );
    return rows.length > 0;
  }

  /** Numbers (as HMACs) that replied STOP to our sender; START removes them. Not per site: one sender. */
  async setSmsOptOut(
    tx: Pick<EntityManager, 'query' | 'connection'>,
    phoneKey: string,
    optedOut: boolean,
  ): Promise<void> {
    const s = schemaOf(tx.connection);
    await tx.query(
      optedOut
        ? `INSERT INTO "${s}".sms_opt_outs (phone_key) VALUES ($1) ON CONFLICT DO NOTHING`
        : `DELETE FROM "${s}".sms_opt_outs WHERE phone_key = $1`,
      [phoneKey],
    );
  }

  async smsOptedOut(tx: Pick<EntityManager, 'query' | 'connection'>, phoneKey: string): Promise<boolean> {
    const s = schemaOf(tx.connection);
    const rows: unknown[] = await tx.query(`SELECT 1 FROM "${s}".sms_opt_outs WHERE phone_key = $1`, [
      phoneKey,
    ]);
    return rows.length > 0;
  }
}
