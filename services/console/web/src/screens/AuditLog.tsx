import { Anchor, Badge, Button, Group, TextInput } from '@mantine/core';
import { useCallback, useEffect, useState, type SyntheticEvent } from 'react';
import { api } from '../api';
import { useT, type MessageId } from '../i18n';
import { failureText } from '../problems';
import { useFormatTime, useSite } from '../site';
import { DataTable, Failure, type Column } from './DataTable';
import { Section } from './Section';

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

/** The filter's fields, in the order shown. */
const FILTER_FIELDS: { key: keyof Filter; label: MessageId; type?: 'datetime-local' }[] = [
  { key: 'from', label: 'audit.from', type: 'datetime-local' },
  { key: 'to', label: 'audit.to', type: 'datetime-local' },
  { key: 'actor', label: 'audit.actor' },
  { key: 'action', label: 'audit.action' },
];

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
      (e: unknown) => setFailure(failureText(e, t)),
    );
  }, [site, applied, t]);
  useEffect(load, [load]);

  const submit = (event: SyntheticEvent): void => {
    event.preventDefault();
    setApplied(filter);
  };

  const columns: Column<Entry>[] = [
    { header: t('audit.when'), cell: (e) => time(e.occurredAt) },
    { header: t('audit.actor'), cell: (e) => e.actor },
    { header: t('audit.action'), cell: (e) => <code>{e.action}</code> },
    { header: t('audit.target'), cell: (e) => e.target },
    {
      header: t('audit.outcome'),
      cell: (e) => (
        <Badge color={e.outcome === 'allowed' ? '#1b5e20' : '#a51d24'}>
          {t(`audit.outcome.${e.outcome}` as MessageId)}
        </Badge>
      ),
    },
  ];

  return (
    <Section id="audit-title" title={t('audit.title')}>
      <form onSubmit={submit}>
        <Group align="flex-end">
          {FILTER_FIELDS.map((field) => (
            <TextInput
              key={field.key}
              label={t(field.label)}
              type={field.type}
              value={filter[field.key]}
              onChange={(e) => setFilter({ ...filter, [field.key]: e.currentTarget.value })}
            />
          ))}
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
      <DataTable rows={entries} rowKey="seq" empty="audit.none" rowTestId="audit-entry" columns={columns} />
    </Section>
  );
}
