import { schemaOf } from '@cloud-connect/db';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** What happened to each site's SEK, version by version (the key itself lives only in Vault). */
export class SekEvents1732300004000 implements MigrationInterface {
  name = 'SekEvents1732300004000';

  async up(runner: QueryRunner): Promise<void> {
    const s = schemaOf(runner);
    await runner.query(`
      CREATE TABLE "${s}".sek_events (
        id bigserial PRIMARY KEY,
        site_number text NOT NULL REFERENCES "${s}".sites (site_number),
        kv_version integer,
        action text NOT NULL CHECK (action IN ('stored', 'replaced', 'removed')),
        actor text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`CREATE INDEX sek_events_site ON "${s}".sek_events (site_number, id)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "${schemaOf(runner)}".sek_events`);
  }
}
