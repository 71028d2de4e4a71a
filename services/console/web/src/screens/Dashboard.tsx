import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Group,
  Menu,
  Progress,
  SimpleGrid,
  Stack,
  Text,
} from '@mantine/core';
import { useState } from 'react';
import { api, type EmrStatus } from '../api';
import { go } from '../nav';
import { useT, type MessageId } from '../i18n';
import { failureText } from '../problems';
import { useFormatTime, useSite } from '../site';
import { usePoll } from '../usePoll';
import { Failure } from './DataTable';
import { Section } from './Section';

/** The main summary: Sync Status, EMR Integration, alerts. */
export function Dashboard() {
  const t = useT();
  const { site } = useSite();
  const [requested, setRequested] = useState<'recent' | 'full' | null>(null);
  const [syncError, setSyncError] = useState<string | null>(null);
  const { data, error, reload } = usePoll<EmrStatus>(
    () => api.get<EmrStatus>(`/admin/sites/${site}/emr`),
    (d) => (d?.sync.state === 'syncing' || requested ? 1000 : 10000),
    [site, requested],
  );

  const sync = async (scope: 'recent' | 'full'): Promise<void> => {
    setSyncError(null);
    try {
      await api.post(`/admin/sites/${site}/emr/sync`, { scope });
      setRequested(scope);
      setTimeout(() => setRequested(null), 20000);
      reload();
    } catch (e) {
      setSyncError(failureText(e, t));
    }
  };

  if (!data) return error ? <Failure message={failureText(error, t)} /> : <Text>{t('common.loading')}</Text>;

  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
      <SyncStatusPanel
        status={data}
        requested={requested}
        syncError={syncError}
        onSync={(scope) => void sync(scope)}
      />
      <Stack>
        <EmrIntegration status={data} />
        <Alerts status={data} />
      </Stack>
    </SimpleGrid>
  );
}

function SyncStatusPanel(props: {
  status: EmrStatus;
  requested: 'recent' | 'full' | null;
  syncError: string | null;
  onSync: (scope: 'recent' | 'full') => void;
}) {
  const t = useT();
  const time = useFormatTime();
  const { sync, connection } = props.status;
  const connected = connection.status === 'connected';
  const syncing = sync.state === 'syncing';
  const lastScheduled = sync.lastScheduledAt ?? sync.lastStartedAt ?? null;
  const nextRecent = sync.nextRecentAt ?? sync.nextDueAt;
  return (
    <Section id="sync-status-title" title={t('sync.title')}>
      {/* The actions come first: the status below them changes size as syncs start and end (and
          wraps differently by language), and a button must not move under the pointer. */}
      <Group gap="xs" className="cc-no-print">
        <Group gap={0} wrap="nowrap">
          <Button
            disabled={!connected}
            onClick={() => props.onSync('recent')}
            style={{ borderTopRightRadius: 0, borderBottomRightRadius: 0 }}
          >
            {t('sync.recent')}
          </Button>
          <Menu position="bottom-end">
            <Menu.Target>
              <ActionIcon
                size={36}
                variant="filled"
                disabled={!connected}
                aria-label={t('sync.more')}
                style={{ borderTopLeftRadius: 0, borderBottomLeftRadius: 0, borderLeft: '1px solid #fff' }}
              >
                <span aria-hidden="true">▾</span>
              </ActionIcon>
            </Menu.Target>
            <Menu.Dropdown>
              <Menu.Item onClick={() => props.onSync('full')}>{t('sync.full')}</Menu.Item>
            </Menu.Dropdown>
          </Menu>
        </Group>
        <Button variant="default" disabled={!connected} onClick={() => go('settings')}>
          {t('sync.editSettings')}
        </Button>
      </Group>
      <Failure message={props.syncError} />
      <div role="status" aria-live="polite">
        {syncing ? (
          <Stack gap={4}>
            <div className="cc-sync-bar" data-state="syncing" data-testid="sync-bar">
              {t('sync.syncingScope', { scope: sync.lastScope ?? 'recent' })}
            </div>
            <Progress value={100} animated striped color="green.9" aria-label={t('sync.syncing')} />
          </Stack>
        ) : lastScheduled ? (
          <div className="cc-sync-bar" data-state="idle" data-testid="sync-bar">
            {t('sync.lastScheduled', { time: time(lastScheduled) ?? '' })}
          </div>
        ) : (
          <div className="cc-sync-bar" data-state="none" data-testid="sync-bar">
            {connected ? t('sync.neverRan') : t('sync.notConnected')}
          </div>
        )}
        {props.requested && !syncing && (
          <Text mt="xs">{t('sync.requested', { scope: props.requested })}</Text>
        )}
      </div>
      <dl className="cc-details">
        <dt>{t('sync.lastStarted')}</dt>
        <dd>{time(sync.lastStartedAt) ?? t('common.never')}</dd>
        <dt>{t('sync.lastSuccess')}</dt>
        <dd>{time(sync.lastSuccessAt) ?? t('common.never')}</dd>
        <dt>{t('sync.nextRecent')}</dt>
        <dd>{time(nextRecent) ?? t('common.notScheduled')}</dd>
        <dt>{t('sync.nextFull')}</dt>
        <dd>{time(sync.nextFullAt) ?? (connected ? t('sync.nextFull.daily') : t('common.notScheduled'))}</dd>
      </dl>
      {sync.lastError && (
        <Alert color="red" title={t('sync.lastError')}>
          <Text>{sync.lastError}</Text>
          <Text mt="xs">{t('sync.lastError.help')}</Text>
        </Alert>
      )}
    </Section>
  );
}

function EmrIntegration({ status }: { status: EmrStatus }) {
  const t = useT();
  const time = useFormatTime();
  const c = status.connection;
  // Dark enough for 4.5:1 with the badge's small white text.
  const color = c.status === 'connected' ? '#1b5e20' : c.status === 'deauthorized' ? '#a51d24' : '#495057';
  const configured = c.status !== 'not-configured';
  return (
    <Section id="emr-title" title={t('emr.title')}>
      <dl className="cc-details">
        <dt>{t('emr.type')}</dt>
        <dd>{c.emrName ?? '—'}</dd>
        <dt>{t('emr.status')}</dt>
        <dd>
          <Badge color={color} variant="filled">
            {t(`emr.status.${c.status}` as MessageId)}
          </Badge>
        </dd>
        {c.connectedAt && (
          <>
            <dt>{t('emr.connectedAt')}</dt>
            <dd>{time(c.connectedAt)}</dd>
          </>
        )}
      </dl>
      <Group className="cc-no-print">
        {configured ? (
          <Button variant="default" onClick={() => go('integrate')}>
            {t('emr.reconfigure')}
          </Button>
        ) : (
          <>
            <Button onClick={() => go('integrate')}>{t('emr.integrate')}</Button>
            <Button variant="default" onClick={() => go('sek')}>
              {t('emr.storeKeyOnly')}
            </Button>
          </>
        )}
      </Group>
    </Section>
  );
}

function Alerts({ status }: { status: EmrStatus }) {
  const t = useT();
  const items: { key: string; title: string; body: string }[] = [];
  if (status.connection.status === 'deauthorized')
    items.push({ key: 'deauth', title: t('alert.deauthorized.title'), body: t('alert.deauthorized.body') });
  if (status.queue.held && status.queue.pending > 0)
    items.push({
      key: 'held',
      title: t('alert.deauthorized.title'),
      body: t('alert.held', { count: status.queue.pending }),
    });
  if (status.queue.deadLettered > 0)
    items.push({
      key: 'dead',
      title: t('alert.deadLetters.title'),
      body: t('alert.deadLetters.body', { count: status.queue.deadLettered }),
    });
  for (const p of status.sync.providerProblems)
    items.push({
      key: `provider-${p.providerId}`,
      title: t('alert.provider.title', { provider: p.providerName }),
      body: t('alert.provider.body', { permissions: p.missingPermissions.join(', ') }),
    });
  return (
    <Section id="alerts-title" title={t('alerts.title')}>
      {items.length === 0 ? (
        <Text>{t('alerts.none')}</Text>
      ) : (
        items.map((item) => (
          <Alert key={item.key} color="red" title={item.title} data-testid="alert">
            {item.body}
          </Alert>
        ))
      )}
    </Section>
  );
}
