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
