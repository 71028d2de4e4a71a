import { Inject, Injectable, Module } from '@nestjs/common';
import { Events } from '@cloud-connect/contracts';
import { consumerGroup, type EventEnvelope } from '@cloud-connect/kafka';
import { DataSource, type EntityManager } from 'typeorm';
import { createTable, schemaOf, tablesMigration } from '@cloud-connect/db';
import { eventConsumer } from './event-consumers';
import { LOGGER } from './tokens';
import type { Logger } from '@cloud-connect/observability';

export interface SiteRecord {
  siteNumber: string;
  name: string;
  locale: 'en' | 'fr';
  timezone: string;
  adminEmail: string;
  clinicalAdminEmail: string | null;
}

/** Table of a service's local copy of the site directory (owned by `vault`, sent as `site.registered`). */
export const SiteReplicaTable1732300000100 = tablesMigration('SiteReplicaTable1732300000100', (s) => [
  createTable(s, 'site_replica', {
    site_number: 'text PRIMARY KEY',
    name: 'text NOT NULL',
    locale: 'text NOT NULL',
    timezone: 'text NOT NULL',
    admin_email: 'text NOT NULL',
    clinical_admin_email: 'text',
    updated_at: 'timestamptz NOT NULL DEFAULT now()',
  }),
]);

/**
 * Keeps the service's `site_replica` table in step with `site.registered` events, so the service
 * knows a site's language, time zone and alert recipients without reading another service's tables.
 */
@Injectable()
export class SiteReplica {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async find(siteNumber: string): Promise<SiteRecord | null> {
    const schema = schemaOf(this.dataSource);
    const rows: Record<string, string | null>[] = await this.dataSource.query(
      `SELECT site_number, name, locale, timezone, admin_email, clinical_admin_email FROM "${schema}".site_replica WHERE site_number = $1`,
      [siteNumber],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      siteNumber: String(row['site_number']),
      name: String(row['name']),
      locale: row['locale'] === 'fr' ? 'fr' : 'en',
      timezone: String(row['timezone']),
      adminEmail: String(row['admin_email']),
      clinicalAdminEmail: row['clinical_admin_email'] ?? null,
    };
  }

  async apply(envelope: EventEnvelope<typeof Events.siteRegistered>, tx: EntityManager): Promise<void> {
    const site = envelope.payload;
    const schema = schemaOf(this.dataSource);
    await tx.query(
      `INSERT INTO "${schema}".site_replica (site_number, name, locale, timezone, admin_email, clinical_admin_email)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (site_number) DO UPDATE SET name = EXCLUDED.name, locale = EXCLUDED.locale,
         timezone = EXCLUDED.timezone, admin_email = EXCLUDED.admin_email,
         clinical_admin_email = EXCLUDED.clinical_admin_email, updated_at = now()`,
      [site.siteNumber, site.name, site.locale, site.timezone, site.adminEmail, site.clinicalAdminEmail],
    );
    this.logger.info({ siteNumber: site.siteNumber }, 'site replica updated');
  }
}

const SiteReplicaConsumer = eventConsumer({ replica: SiteReplica }, (on) => [
  on(Events.siteRegistered, consumerGroup('site-replica'), ({ replica }, envelope, tx) =>
    replica.apply(envelope, tx),
  ),
]);

@Module({ controllers: [SiteReplicaConsumer], providers: [SiteReplica], exports: [SiteReplica] })
export class SiteReplicaModule {}
