import { dropTables, sqlMigration } from '@cloud-connect/db';

/** What happened to each site's SEK, version by version (the key itself lives only in Vault). */
export const SekEvents1732300004000 = sqlMigration('SekEvents1732300004000', {
  up: (s) => [
    `
      CREATE TABLE "${s}".sek_events (
        id bigserial PRIMARY KEY,
        site_number text NOT NULL REFERENCES "${s}".sites (site_number),
        kv_version integer,
        action text NOT NULL CHECK (action IN ('stored', 'replaced', 'removed')),
        actor text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
    `CREATE INDEX sek_events_site ON "${s}".sek_events (site_number, id)`,
  ],
  down: dropTables('sek_events'),
});
