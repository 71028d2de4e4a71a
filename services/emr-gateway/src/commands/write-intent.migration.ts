import { addColumnsMigration } from '@cloud-connect/db';

/**
 * What the gateway applied, and what it may have: `write_started_at` is committed just before a
 * command's write is sent to an EMR that can be read back, so an attempt after a crash or a lost
 * answer knows to look in the chart before it writes again (docs/emr.md, "Exactly once").
 */
export const EmrWriteIntent1732300014200 = addColumnsMigration(
  'EmrWriteIntent1732300014200',
  'emr_commands',
  {
    write_started_at: 'timestamptz',
  },
);
