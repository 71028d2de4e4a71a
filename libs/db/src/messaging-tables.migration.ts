import { createTable, tablesMigration } from './sql-migration';

/**
 * The tables every service's messaging needs, in the service's own schema: the transactional
 * outbox and the record of envelopes a consumer has handled. Include it in each service's
 * migration list.
 */
export const MessagingTables1732300000000 = tablesMigration('MessagingTables1732300000000', (s) => [
  createTable(s, 'outbox', {
    id: 'bigserial PRIMARY KEY',
    topic: 'text NOT NULL',
    message_key: 'text NOT NULL',
    envelope: 'jsonb NOT NULL',
    // Transaction that wrote the row: the relay only takes rows whose writers have all
    // finished, so a slow transaction cannot have its row overtaken and forgotten.
    txid: 'xid8 NOT NULL DEFAULT pg_current_xact_id()',
    batch_id: 'bigint',
    created_at: 'timestamptz NOT NULL DEFAULT now()',
    published_at: 'timestamptz',
  }),
  `CREATE INDEX outbox_pending ON "${s}".outbox (id) WHERE published_at IS NULL`,
  createTable(
    s,
    'processed_messages',
    {
      consumer: 'text NOT NULL',
      envelope_id: 'uuid NOT NULL',
      processed_at: 'timestamptz NOT NULL DEFAULT now()',
    },
    'PRIMARY KEY (consumer, envelope_id)',
  ),
]);
