import { Button, Group, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { api, type EmrStatus } from '../api';
import { useT } from '../i18n';
import { useSite } from '../site';

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
    <Paper withBorder p="md" component="section" aria-labelledby="card-title" className="cc-card">
      <Stack>
        <Group justify="space-between">
          <Title order={2} size="h3" id="card-title">
            {t('card.title')}
          </Title>
          <Button className="cc-no-print" onClick={() => window.print()}>
            {t('card.print')}
          </Button>
        </Group>
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
            {data.integrations.length === 0 ? (
              <Text>{t('integrations.none')}</Text>
            ) : (
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('integrations.name')}</Table.Th>
                    <Table.Th>{t('integrations.header')}</Table.Th>
                    <Table.Th>{t('integrations.url')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.integrations.map((i) => (
                    <Table.Tr key={i.name}>
                      <Table.Td>{i.name}</Table.Td>
                      <Table.Td>{i.authHeaderName}</Table.Td>
                      <Table.Td>{i.requestUrl ?? '—'}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
            <Title order={3} size="h4">
              {t('oauth.title')}
            </Title>
            {data.clients.filter((c) => !c.revokedAt).length === 0 ? (
              <Text>{t('oauth.none')}</Text>
            ) : (
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('oauth.name')}</Table.Th>
                    <Table.Th>{t('oauth.clientId')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.clients
                    .filter((c) => !c.revokedAt)
                    .map((c) => (
                      <Table.Tr key={c.clientId}>
                        <Table.Td>{c.name}</Table.Td>
                        <Table.Td>{c.clientId}</Table.Td>
                      </Table.Tr>
                    ))}
                </Table.Tbody>
              </Table>
            )}
            <Text fw={600}>{t('card.noSecrets')}</Text>
          </>
        )}
      </Stack>
    </Paper>
  );
}
