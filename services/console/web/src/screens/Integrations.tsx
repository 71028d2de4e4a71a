import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Group,
  Paper,
  PasswordInput,
  Stack,
  TextInput,
  Title,
} from '@mantine/core';
import { useCallback, useEffect, useState, type SyntheticEvent } from 'react';
import { api, ApiError } from '../api';
import { useT, type MessageId } from '../i18n';
import { useFormatTime, useSite } from '../site';
import { DataTable, Failure } from './DataTable';
import { RetryAfterFreshSignIn } from './FreshSignIn';
import { SecretOnce } from './SecretOnce';

interface Integration {
  id: string;
  name: string;
  payloadType: string;
  authHeaderName: string;
  requestUrl: string | null;
  sendCopies: boolean;
  enabled: boolean;
  keys: { id: string; hint: string }[];
}

interface Delivery {
  id: string;
  status: 'pending' | 'in-flight' | 'delivered' | 'dead-lettered';
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

const EMPTY = {
  name: '',
  requestUrl: '',
  authHeaderName: 'Referral-Integration-API-Key',
  outboundKey: '',
  sendCopies: false,
};

/** Integrations: register (name, request URL, payload type, API-key header, key, send a copy), enable/disable, rotate, deliveries. */
export function Integrations() {
  const t = useT();
  const { site } = useSite();
  const [items, setItems] = useState<Integration[] | null>(null);
  const [form, setForm] = useState(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [needsFresh, setNeedsFresh] = useState<(() => void) | null>(null);
  const [issued, setIssued] = useState<{ name: string; key: string } | null>(null);
  const [open, setOpen] = useState<string | null>(null);

  const load = useCallback(() => {
    api.get<{ integrations: Integration[] }>(`/admin/sites/${site}/integrations`).then(
      (a) => setItems(a.integrations),
      (e: unknown) => setFailure(e instanceof ApiError && e.message ? e.message : t('common.error.generic')),
    );
  }, [site, t]);
  useEffect(load, [load]);

  const act = async (work: () => Promise<void>): Promise<void> => {
    setFailure(null);
    try {
      await work();
    } catch (e) {
      if (e instanceof ApiError && e.code === 'reauthentication-required') {
        setNeedsFresh(() => () => void act(work));
        return;
      }
      if (e instanceof ApiError && e.details.length > 0) {
        const fieldErrors: Record<string, string> = {};
        for (const d of e.details) {
          const [path, ...rest] = d.split(': ');
          fieldErrors[path ?? ''] = rest.join(': ');
        }
        setErrors(fieldErrors);
      }
      setFailure(e instanceof ApiError && e.message ? e.message : t('common.error.generic'));
    }
  };

  const register = (event: SyntheticEvent): void => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!form.name.trim()) found['name'] = t('integrations.error.name');
    if (form.sendCopies && !form.requestUrl.trim()) found['requestUrl'] = t('integrations.error.url');
    if (form.sendCopies && !form.outboundKey.trim())
      found['outboundKey'] = t('integrations.error.outboundKey');
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    void act(async () => {
      const answer = await api.post<{ integration: Integration; apiKey?: string }>(
        `/admin/sites/${site}/integrations`,
        {
          name: form.name.trim(),
          authHeaderName: form.authHeaderName.trim(),
          requestUrl: form.requestUrl.trim() || null,
          outboundKey: form.outboundKey.trim() || null,
          sendCopies: form.sendCopies,
        },
      );
      if (answer.apiKey) setIssued({ name: answer.integration.name, key: answer.apiKey });
      setForm(EMPTY);
      load();
    });
  };

  return (
    <Stack>
      <RetryAfterFreshSignIn retry={needsFresh} clear={() => setNeedsFresh(null)} />
      <Failure message={failure} />
      <SecretOnce
        secret={issued && { label: t('integrations.keyIssued', { name: issued.name }), value: issued.key }}
        onDismiss={() => setIssued(null)}
      />
      <Paper withBorder p="md" component="section" aria-labelledby="integrations-title">
        <Stack>
          <Title order={2} size="h3" id="integrations-title">
            {t('integrations.title')}
          </Title>
          <DataTable
            rows={items}
            rowKey={(i) => i.id}
            empty={t('integrations.none')}
            columns={[
              { header: t('integrations.name'), cell: (i) => i.name },
              {
                header: t('integrations.header'),
                cell: (i) => <code>{i.authHeaderName}</code>,
              },
              { header: t('integrations.url'), cell: (i) => i.requestUrl ?? '—' },
              {
                header: t('integrations.state'),
                cell: (i) => (
                  <Badge color={i.enabled ? '#1b5e20' : '#495057'}>
                    {t(i.enabled ? 'integrations.enabled' : 'integrations.disabled')}
                  </Badge>
                ),
              },
              {
                header: t('integrations.actions'),
                cell: (i) => (
                  <Group gap="xs">
                    <Button
                      size="xs"
                      variant="default"
                      onClick={() =>
                        void act(async () => {
                          await api.post(
                            `/admin/sites/${site}/integrations/${i.id}/${i.enabled ? 'disable' : 'enable'}`,
                          );
                          load();
                        })
                      }
                    >
                      {t(i.enabled ? 'integrations.disable' : 'integrations.enable')}
                    </Button>
                    <Button
                      size="xs"
                      variant="default"
                      onClick={() =>
                        void act(async () => {
                          const a = await api.post<{ apiKey?: string }>(
                            `/admin/sites/${site}/integrations/${i.id}/rotate-key`,
                          );
                          if (a.apiKey) setIssued({ name: i.name, key: a.apiKey });
                          load();
                        })
                      }
                    >
                      {t('integrations.rotate')}
                    </Button>
                    <Button size="xs" variant="default" onClick={() => setOpen(open === i.id ? null : i.id)}>
                      {t('integrations.deliveries')}
                    </Button>
                  </Group>
                ),
              },
            ]}
          />
          {open && items?.some((i) => i.id === open) && (
            <DeliveriesLog integration={items.find((i) => i.id === open) as Integration} act={act} />
          )}
        </Stack>
      </Paper>
      <Paper withBorder p="md" component="section" aria-labelledby="register-title">
        <form onSubmit={register} noValidate>
          <Stack maw={640}>
            <Title order={2} size="h3" id="register-title">
              {t('integrations.register')}
            </Title>
            <TextInput
              label={t('integrations.name')}
              required
              value={form.name}
              error={errors['name']}
              onChange={(e) => setForm({ ...form, name: e.currentTarget.value })}
            />
            <TextInput
              label={t('integrations.url')}
              description={t('integrations.url.help')}
              value={form.requestUrl}
              error={errors['requestUrl']}
              onChange={(e) => setForm({ ...form, requestUrl: e.currentTarget.value })}
            />
            <TextInput label={t('integrations.payloadType')} value="FHIR R4 eReferral (0.11.1)" readOnly />
            <TextInput
              label={t('integrations.header')}
              value={form.authHeaderName}
              error={errors['authHeaderName']}
              onChange={(e) => setForm({ ...form, authHeaderName: e.currentTarget.value })}
            />
            <PasswordInput
              label={t('integrations.outboundKey')}
              description={t('integrations.outboundKey.help')}
              autoComplete="off"
              value={form.outboundKey}
              error={errors['outboundKey']}
              onChange={(e) => setForm({ ...form, outboundKey: e.currentTarget.value })}
            />
            <Checkbox
              label={t('integrations.sendCopies')}
              checked={form.sendCopies}
              onChange={(e) => setForm({ ...form, sendCopies: e.currentTarget.checked })}
            />
            <Group>
              <Button type="submit">{t('integrations.register.submit')}</Button>
            </Group>
          </Stack>
        </form>
      </Paper>
    </Stack>
  );
}

function DeliveriesLog({
  integration,
  act,
}: {
  integration: Integration;
  act: (work: () => Promise<void>) => Promise<void>;
}) {
  const t = useT();
  const time = useFormatTime();
  const { site } = useSite();
  const [deliveries, setDeliveries] = useState<Delivery[] | null>(null);
  const [replayed, setReplayed] = useState<number | null>(null);
  const base = `/admin/sites/${site}/integrations/${integration.id}/deliveries`;
  const load = useCallback(() => {
    void act(async () => setDeliveries((await api.get<{ deliveries: Delivery[] }>(base)).deliveries));
  }, [act, base]);
  useEffect(load, [load]);
  const replay = (deliveryId?: string): void => {
    void act(async () => {
      const answer = await api.post<{ replayed: string[] }>(
        `${base}/replay`,
        deliveryId ? { deliveryId } : {},
      );
      setReplayed(answer.replayed.length);
      load();
    });
  };
  const failed = deliveries?.filter((d) => d.status === 'dead-lettered').length ?? 0;
  return (
    <Stack>
      <Title order={3} size="h4">
        {t('deliveries.title', { name: integration.name })}
      </Title>
      {replayed !== null && <Alert role="status">{t('deliveries.replayed', { count: replayed })}</Alert>}
      <Group>
        <Button variant="default" disabled={failed === 0} onClick={() => replay()}>
          {t('deliveries.replayAll', { count: failed })}
        </Button>
        <Button variant="default" onClick={load}>
          {t('deliveries.refresh')}
        </Button>
      </Group>
      <DataTable
        rows={deliveries}
        rowKey={(d) => d.id}
        empty={t('deliveries.none')}
        rowTestId="delivery"
        columns={[
          { header: t('deliveries.created'), cell: (d) => time(d.createdAt) },
          {
            header: t('deliveries.status'),
            cell: (d) => t(`deliveries.status.${d.status}` as MessageId),
          },
          { header: t('deliveries.attempts'), cell: (d) => d.attempts },
          {
            header: t('deliveries.lastError'),
            cell: (d) => d.lastError ?? (d.lastStatus ? `HTTP ${String(d.lastStatus)}` : '—'),
          },
          {
            header: t('integrations.actions'),
            cell: (d) =>
              d.status === 'dead-lettered' && (
                <Button size="xs" onClick={() => replay(d.id)}>
                  {t('deliveries.retry')}
                </Button>
              ),
          },
        ]}
      />
    </Stack>
  );
}
