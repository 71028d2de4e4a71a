import {
  Alert,
  Anchor,
  Badge,
  Button,
  Group,
  Paper,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useCallback, useEffect, useState, type SyntheticEvent } from 'react';
import { api, ApiError } from '../api';
import { useT, type MessageId } from '../i18n';
import { useFormatTime, useSite } from '../site';

interface Entry {
  seq: number;
  occurredAt: string;
  actor: string;
  action: string;
  target: string;
  outcome: 'allowed' | 'denied' | 'failed';
}

interface Filter {
  from: string;
  to: string;
  actor: string;
  action: string;
}

/** `from`/`to` are local date-times typed by the admin (YYYY-MM-DDTHH:mm); the API wants ISO 8601. */
function query(filter: Filter, format: 'json' | 'csv'): string {
  const params = new URLSearchParams({ format, limit: '500' });
  for (const key of ['from', 'to'] as const) {
    const value = filter[key].trim();
    if (value && !Number.isNaN(Date.parse(value))) params.set(key, new Date(value).toISOString());
  }
  if (filter.actor.trim()) params.set('actor', filter.actor.trim());
  if (filter.action.trim()) params.set('action', filter.action.trim());
  return params.toString();
}

/** The site's tamper-evident audit trail: filter by time, actor, action; CSV export. */
export function AuditLog() {
  const t = useT();
  const time = useFormatTime();
  const { site } = useSite();
  const [filter, setFilter] = useState<Filter>({ from: '', to: '', actor: '', action: '' });
  const [applied, setApplied] = useState<Filter>(filter);
  const [entries, setEntries] = useState<Entry[] | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  const load = useCallback(() => {
    setFailure(null);
    api.get<{ entries: Entry[] }>(`/sites/${site}/audit?${query(applied, 'json')}`).then(
      (a) => setEntries([...a.entries].reverse()),
      (e: unknown) => setFailure(e instanceof ApiError && e.message ? e.message : t('common.error.generic')),
    );
  }, [site, applied, t]);
  useEffect(load, [load]);

  const submit = (event: SyntheticEvent): void => {
    event.preventDefault();
    setApplied(filter);
  };

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="audit-title">
      <Stack>
        <Title order={2} size="h3" id="audit-title">
          {t('audit.title')}
        </Title>
        <form onSubmit={submit}>
          <Group align="flex-end">
            <TextInput
              label={t('audit.from')}
              type="datetime-local"
              value={filter.from}
              onChange={(e) => setFilter({ ...filter, from: e.currentTarget.value })}
            />
            <TextInput
              label={t('audit.to')}
              type="datetime-local"
              value={filter.to}
              onChange={(e) => setFilter({ ...filter, to: e.currentTarget.value })}
            />
            <TextInput
              label={t('audit.actor')}
              value={filter.actor}
              onChange={(e) => setFilter({ ...filter, actor: e.currentTarget.value })}
            />
            <TextInput
              label={t('audit.action')}
              value={filter.action}
              onChange={(e) => setFilter({ ...filter, action: e.currentTarget.value })}
            />
            <Button type="submit">{t('audit.filter')}</Button>
            <Anchor
              href={`/api/sites/${site}/audit?${query(applied, 'csv')}`}
              download={`audit-site-${site}.csv`}
            >
              {t('audit.csv')}
            </Anchor>
          </Group>
        </form>
        {failure && (
          <Alert color="red" role="alert">
            {failure}
          </Alert>
        )}
        {!entries ? (
          <Text>{t('common.loading')}</Text>
        ) : entries.length === 0 ? (
          <Text>{t('audit.none')}</Text>
        ) : (
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('audit.when')}</Table.Th>
                <Table.Th>{t('audit.actor')}</Table.Th>
                <Table.Th>{t('audit.action')}</Table.Th>
                <Table.Th>{t('audit.target')}</Table.Th>
                <Table.Th>{t('audit.outcome')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {entries.map((e) => (
                <Table.Tr key={e.seq} data-testid="audit-entry">
                  <Table.Td>{time(e.occurredAt)}</Table.Td>
                  <Table.Td>{e.actor}</Table.Td>
                  <Table.Td>
                    <code>{e.action}</code>
                  </Table.Td>
                  <Table.Td>{e.target}</Table.Td>
                  <Table.Td>
                    <Badge color={e.outcome === 'allowed' ? '#1b5e20' : '#a51d24'}>
                      {t(`audit.outcome.${e.outcome}` as MessageId)}
                    </Badge>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Stack>
    </Paper>
  );
}
