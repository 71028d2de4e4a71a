import { Alert, Table, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { useT } from '../i18n';

export interface Column<R> {
  header: string;
  cell: (row: R) => ReactNode;
}

/**
 * The console's one list: "Loading…" until the rows arrive, a sentence when there are none,
 * else a table of the given columns (the last one usually holds the row's actions).
 */
export function DataTable<R>(props: {
  rows: R[] | null;
  columns: Column<R>[];
  rowKey: (row: R) => string;
  empty: string;
  rowTestId?: string;
}) {
  const t = useT();
  if (!props.rows) return <Text>{t('common.loading')}</Text>;
  if (props.rows.length === 0) return <Text>{props.empty}</Text>;
  return (
    <Table>
      <Table.Thead>
        <Table.Tr>
          {props.columns.map((c) => (
            <Table.Th key={c.header}>{c.header}</Table.Th>
          ))}
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {props.rows.map((row) => (
          <Table.Tr key={props.rowKey(row)} data-testid={props.rowTestId}>
            {props.columns.map((c) => (
              <Table.Td key={c.header}>{c.cell(row)}</Table.Td>
            ))}
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** A failure in plain words, announced to screen readers. */
export function Failure({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <Alert color="red" role="alert">
      {message}
    </Alert>
  );
}
