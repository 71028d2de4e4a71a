import { dropTables, sqlMigration } from '@cloud-connect/db';

/**
 * SEK removal is a soft delete with a recovery window: one row per removed SEK (which KV versions
 * were soft-deleted, until when they are recoverable, the second admin's approval to destroy).
 * `sek_events` also records restores and destructions.
 */
export const SekRemovals1732300091100 = sqlMigration('SekRemovals1732300091100', {
  up: (s) => [
    `
      CREATE TABLE "${s}".sek_removals (
        site_number text PRIMARY KEY REFERENCES "${s}".sites (site_number),
        versions integer[] NOT NULL,
        removed_by text NOT NULL,
        removed_at timestamptz NOT NULL DEFAULT now(),
        recoverable_until timestamptz NOT NULL,
        destroy_approved_by text,
        destroy_approved_at timestamptz,
        CHECK (destroy_approved_by IS NULL OR destroy_approved_by <> removed_by)
      )`,
    `ALTER TABLE "${s}".sek_events DROP CONSTRAINT IF EXISTS sek_events_action_check`,
    `ALTER TABLE "${s}".sek_events ADD CONSTRAINT sek_events_action_check
         CHECK (action IN ('stored', 'replaced', 'removed', 'restored', 'destroyed'))`,
  ],
  down: dropTables('sek_removals'),
});
