import { addColumnsMigration } from '@cloud-connect/db';

/** The next full sync's time in the sync status (the scheduler's nightly slot). */
export const SyncNextFull1732300014100 = addColumnsMigration('SyncNextFull1732300014100', 'emr_sync_status', {
  next_full_at: 'timestamptz',
});
