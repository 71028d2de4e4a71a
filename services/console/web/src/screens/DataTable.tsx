import { Alert, Button, Group, Table, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { useT, type MessageId } from '../i18n';

export interface Column<R> {
  header: string;
  cell: (row: R) => ReactNode;
}

/** The fields of a row that can name it (a string or a number). */
type KeyField<R> = { [K in keyof R]: R[K] extends string | number ? K : never }[keyof R];

/**
 * The console's one list: "Loading…" until the rows arrive, a sentence when there are none,
 * else a table of the given columns (the last one usually holds the row's actions).
 */
export function DataTable<R>(props: {
  rows: R[] | null;
  columns: Column<R>[];
  /** The field that tells the rows apart. */
  rowKey: KeyField<R>;
  /** The sentence shown when there are no rows. */
  empty: MessageId;
  rowTestId?: string;
}) {
  const t = useT();
  if (!props.rows) return <Text>{t('common.loading')}</Text>;
  if (props.rows.length === 0) return <Text>{t(props.empty)}</Text>;
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
          <Table.Tr key={String(row[props.rowKey])} data-testid={props.rowTestId}>
            {props.columns.map((c) => (
              <Table.Td key={c.header}>{c.cell(row)}</Table.Td>
            ))}
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

const TONES = {
  failure: { color: 'red', role: 'alert' },
  notice: { color: 'green', role: 'status' },
} as const;

/** A message in plain words, announced to screen readers (nothing while there is none). */
function Announced({ message, tone }: { message: string | null; tone: keyof typeof TONES }) {
  if (!message) return null;
  return (
    <Alert color={TONES[tone].color} role={TONES[tone].role}>
      {message}
    </Alert>
  );
}

/** A failure in plain words, announced at once. */
export function Failure({ message }: { message: string | null }) {
  return <Announced message={message} tone="failure" />;
}

/** An action's outcome in plain words, announced politely. */
export function Notice({ message }: { message: string | null }) {
  return <Announced message={message} tone="notice" />;
}

/** One button of a row's actions. */
export interface RowAction {
  label: string;
  onClick: () => void;
  ariaLabel?: string;
  variant?: 'default' | 'outline';
  color?: string;
}

/** The buttons of a row's actions (an action left out where it is `false`). */
export function RowActions({ actions }: { actions: (RowAction | false)[] }) {
  return (
    <Group gap="xs">
      {actions
        .filter((action): action is RowAction => action !== false)
        .map((action) => (
          <Button
            key={action.label}
            size="xs"
            variant={action.variant ?? 'default'}
            color={action.color}
            aria-label={action.ariaLabel}
            onClick={action.onClick}
          >
            {action.label}
          </Button>
        ))}
    </Group>
  );
}

/**
 * A list's column of each row's action buttons, or what `instead` shows for a row that takes none
 * (where it gives something other than `false`, `null` or `undefined`).
 */
export function actionsColumn<R>(
  header: string,
  actions: (row: R) => (RowAction | false)[],
  instead?: (row: R) => ReactNode,
): Column<R> {
  return {
    header,
    cell: (row) => {
      const shown = instead?.(row);
      return shown === undefined || shown === null || shown === false ? (
        <RowActions actions={actions(row)} />
      ) : (
        shown
      );
    },
  };
}
