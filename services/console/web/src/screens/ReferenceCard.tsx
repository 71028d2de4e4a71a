import { Button, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { api, type EmrStatus } from '../api';
import { useT } from '../i18n';
import { useSite } from '../site';
import { DataTable } from './DataTable';
import { Section } from './Section';

interface CardData {
  emr: EmrStatus | null;
  integrations: { name: string; authHeaderName: string; requestUrl: string | null }[];
  clients: { clientId: string; name: string; revokedAt: string | null }[];
}

/**
 * The Credential Reference Card: what the site needs to find its credentials again — identifiers
 * and names only, never a secret, a key or a password. Printable (the print stylesheet hides the
 * console around it; the browser's "Save as PDF" makes the PDF).
 */
export function ReferenceCard() {
  const t = useT();
  const { site, record } = useSite();
  const [data, setData] = useState<CardData | null>(null);

  useEffect(() => {
    const none =
      <T,>(fallback: T) =>
      (): T =>
        fallback;
    void Promise.all([
      api.get<EmrStatus>(`/admin/sites/${site}/emr`).catch(none(null)),
      api
        .get<{ integrations: CardData['integrations'] }>(`/admin/sites/${site}/integrations`)
        .catch(none({ integrations: [] })),
      api
        .get<{ clients: CardData['clients'] }>(`/admin/sites/${site}/oauth-clients`)
        .catch(none({ clients: [] })),
    ]).then(([emr, integrations, clients]) =>
      setData({ emr, integrations: integrations.integrations, clients: clients.clients }),
    );
  }, [site]);

  return (
    <Section
      id="card-title"
      title={t('card.title')}
      className="cc-card"
      aside={
        <Button className="cc-no-print" onClick={() => window.print()}>
          {t('card.print')}
        </Button>
      }
    >
      <Text>{t('card.intro')}</Text>
      {!data ? (
        <Text>{t('common.loading')}</Text>
      ) : (
        <>
          <dl className="cc-details">
            <dt>{t('card.site')}</dt>
            <dd>
              {site}
              {record ? ` — ${record.name}` : ''}
            </dd>
            <dt>{t('emr.type')}</dt>
            <dd>{data.emr?.connection.emrName ?? '—'}</dd>
            <dt>{t('card.emrIds')}</dt>
            <dd>{data.emr?.connection.emrType ? t('card.emrIds.where') : '—'}</dd>
          </dl>
          <Title order={3} size="h4">
            {t('integrations.title')}
          </Title>
          <DataTable
            rows={data.integrations}
            rowKey="name"
            empty="integrations.none"
            columns={[
              { header: t('integrations.name'), cell: (i) => i.name },
              { header: t('integrations.header'), cell: (i) => i.authHeaderName },
              { header: t('integrations.url'), cell: (i) => i.requestUrl ?? '—' },
            ]}
          />
          <Title order={3} size="h4">
            {t('oauth.title')}
          </Title>
          <DataTable
            rows={data.clients.filter((c) => !c.revokedAt)}
            rowKey="clientId"
            empty="oauth.none"
            columns={[
              { header: t('oauth.name'), cell: (c) => c.name },
              { header: t('oauth.clientId'), cell: (c) => c.clientId },
            ]}
          />
          <Text fw={600}>{t('card.noSecrets')}</Text>
        </>
      )}
    </Section>
  );
}
