import { Anchor, Badge, Button, Group, Paper, Stack, TextInput, Title } from '@mantine/core';
import { useCallback, useEffect, useState, type SyntheticEvent } from 'react';
import { api, ApiError } from '../api';
import { useT, type MessageId } from '../i18n';
import { useFormatTime, useSite } from '../site';
import { DataTable, Failure } from './DataTable';

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
        <Failure message={failure} />
        <DataTable
          rows={entries}
          rowKey={(e) => String(e.seq)}
          empty={t('audit.none')}
          rowTestId="audit-entry"
          columns={[
            { header: t('audit.when'), cell: (e) => time(e.occurredAt) },
            { header: t('audit.actor'), cell: (e) => e.actor },
            {
              header: t('audit.action'),
              cell: (e) => <code>{e.action}</code>,
            },
            { header: t('audit.target'), cell: (e) => e.target },
            {
              header: t('audit.outcome'),
              cell: (e) => (
                <Badge color={e.outcome === 'allowed' ? '#1b5e20' : '#a51d24'}>
                  {t(`audit.outcome.${e.outcome}` as MessageId)}
                </Badge>
              ),
            },
          ]}
        />
      </Stack>
    </Paper>
  );
}
