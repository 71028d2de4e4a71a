import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A clinic site, identified by its site number. Owned by `vault`; others keep a replica. */
@Entity({ name: 'sites' })
export class SiteEntity {
  @PrimaryColumn({ name: 'site_number', type: 'text' })
  siteNumber!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  locale!: 'en' | 'fr';

  @Column({ type: 'text' })
  timezone!: string;

  @Column({ name: 'admin_email', type: 'text' })
  adminEmail!: string;

  @Column({ name: 'clinical_admin_email', type: 'text', nullable: true })
  clinicalAdminEmail!: string | null;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

type SiteFields = Pick<
  SiteEntity,
  'siteNumber' | 'name' | 'locale' | 'timezone' | 'adminEmail' | 'clinicalAdminEmail'
>;

/** The site record the other services replicate (the payload of `site.registered`). */
export function siteRecord(site: SiteFields): SiteFields {
  return {
    siteNumber: site.siteNumber,
    name: site.name,
    locale: site.locale,
    timezone: site.timezone,
    adminEmail: site.adminEmail,
    clinicalAdminEmail: site.clinicalAdminEmail,
  };
}

/** A site as the admin APIs answer it. */
export function siteView(site: SiteEntity): Record<string, unknown> {
  return { ...siteRecord(site), createdAt: site.createdAt.toISOString() };
}
