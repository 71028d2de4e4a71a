import { Alert, Badge, Button, Checkbox, Group, PasswordInput, Stack, TextInput, Title } from '@mantine/core';
import { useCallback, useEffect, useState, type SyntheticEvent } from 'react';
import { api } from '../api';
import { useT, type MessageId } from '../i18n';
import { useFormatTime, useSite } from '../site';
import { textField, useAdminActions, useListed } from '../useAdminActions';
import { ActionsFrame } from './ActionsFrame';
import { actionsColumn, DataTable, type Column } from './DataTable';
import { Section, SubmitRow } from './Section';

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
  const [form, setForm] = useState(EMPTY);
  const actions = useAdminActions(t);
  const { act, setFailure, errors, setErrors } = actions;
  const { rows: items, reload: load } = useListed(
    async () =>
      (await api.get<{ integrations: Integration[] }>(`/admin/sites/${site}/integrations`)).integrations,
    [site],
    t,
    setFailure,
  );
  const [open, setOpen] = useState<string | null>(null);
  const field = textField(t, form, setForm, (name) => errors[name]);

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
      actions.showSecret(answer.apiKey, 'integrations.keyIssued', { name: answer.integration.name });
      setForm(EMPTY);
      load();
    });
  };

  const columns: Column<Integration>[] = [
    { header: t('integrations.name'), cell: (i) => i.name },
    { header: t('integrations.header'), cell: (i) => <code>{i.authHeaderName}</code> },
    { header: t('integrations.url'), cell: (i) => i.requestUrl ?? '—' },
    {
      header: t('integrations.state'),
      cell: (i) => (
        <Badge color={i.enabled ? '#1b5e20' : '#495057'}>
          {t(i.enabled ? 'integrations.enabled' : 'integrations.disabled')}
        </Badge>
      ),
    },
    actionsColumn(t('integrations.actions'), (i) => [
      {
        label: t(i.enabled ? 'integrations.disable' : 'integrations.enable'),
        onClick: () =>
          void act(async () => {
            await api.post(`/admin/sites/${site}/integrations/${i.id}/${i.enabled ? 'disable' : 'enable'}`);
            load();
          }),
      },
      {
        label: t('integrations.rotate'),
        onClick: () =>
          void act(async () => {
            const a = await api.post<{ apiKey?: string }>(
              `/admin/sites/${site}/integrations/${i.id}/rotate-key`,
            );
            actions.showSecret(a.apiKey, 'integrations.keyIssued', { name: i.name });
            load();
          }),
      },
      { label: t('integrations.deliveries'), onClick: () => setOpen(open === i.id ? null : i.id) },
    ]),
  ];

  return (
    <ActionsFrame actions={actions}>
      <Section id="integrations-title" title={t('integrations.title')}>
        <DataTable rows={items} rowKey="id" empty="integrations.none" columns={columns} />
        {open && items?.some((i) => i.id === open) && (
          <DeliveriesLog integration={items.find((i) => i.id === open) as Integration} act={act} />
        )}
      </Section>
      <Section id="register-title" title={t('integrations.register')} maw={640} onSubmit={register}>
        <TextInput required {...field('name', 'integrations.name')} />
        <TextInput {...field('requestUrl', 'integrations.url', 'integrations.url.help')} />
        <TextInput label={t('integrations.payloadType')} value="FHIR R4 eReferral (0.11.1)" readOnly />
        <TextInput {...field('authHeaderName', 'integrations.header')} />
        <PasswordInput
          autoComplete="off"
          {...field('outboundKey', 'integrations.outboundKey', 'integrations.outboundKey.help')}
        />
        <Checkbox
          label={t('integrations.sendCopies')}
          checked={form.sendCopies}
          onChange={(e) => setForm({ ...form, sendCopies: e.currentTarget.checked })}
        />
        <SubmitRow label={t('integrations.register.submit')} />
      </Section>
    </ActionsFrame>
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
  const columns: Column<Delivery>[] = [
    { header: t('deliveries.created'), cell: (d) => time(d.createdAt) },
    { header: t('deliveries.status'), cell: (d) => t(`deliveries.status.${d.status}` as MessageId) },
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
  ];

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
        rowKey="id"
        empty="deliveries.none"
        rowTestId="delivery"
        columns={columns}
      />
    </Stack>
  );
}
