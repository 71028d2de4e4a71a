import { Badge, Button, Group, Modal, Paper, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState, type SyntheticEvent } from 'react';
import { api, ApiError, fieldErrors, type SiteAdmin, type SiteRecord } from '../api';
import { useT, type MessageId } from '../i18n';
import { messageFor, OFFLINE_CODES } from '../problems';
import { useSite } from '../site';
import { textField, useListed } from '../useAdminActions';
import { actionsColumn, DataTable, Failure, Notice, type Column } from './DataTable';
import { SubmitRow } from './Section';

/** Canadian time zones first (the product's sites), then the one the site has if it is another. */
const CANADIAN_ZONES = [
  'America/St_Johns',
  'America/Halifax',
  'America/Moncton',
  'America/Toronto',
  'America/Montreal',
  'America/Winnipeg',
  'America/Regina',
  'America/Edmonton',
  'America/Vancouver',
  'America/Whitehorse',
];

type Field = 'name' | 'clinicalAdminEmail' | 'locale' | 'timezone';
const FIELD_MESSAGES: Record<Field, MessageId> = {
  name: 'account.error.name',
  clinicalAdminEmail: 'account.error.email',
  locale: 'account.error.locale',
  timezone: 'account.error.timezone',
};

/**
 * Site account: the site's settings (name, clinical administrator e-mail — changing it e-mails
 * the old and the new address — language, time zone) and its administrators (invite, remove,
 * send a password reset link).
 */
export function SiteAccount({ onSaved }: { onSaved: (record: SiteRecord) => void }) {
  const t = useT();
  const { site, record } = useSite();
  const [form, setForm] = useState({
    name: '',
    clinicalAdminEmail: '',
    locale: 'en',
    timezone: 'America/Toronto',
  });
  const [errors, setErrors] = useState<Partial<Record<Field, MessageId>>>({});
  const [saved, setSaved] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const [invite, setInvite] = useState('');
  const [inviteError, setInviteError] = useState<MessageId | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [removing, setRemoving] = useState<SiteAdmin | null>(null);

  useEffect(() => {
    if (record)
      setForm({
        name: record.name,
        clinicalAdminEmail: record.clinicalAdminEmail ?? '',
        locale: record.locale,
        timezone: record.timezone,
      });
  }, [record]);

  const { rows: admins, reload: load } = useListed(
    async () => (await api.get<{ admins: SiteAdmin[] }>(`/admin/sites/${site}/admins`)).admins,
    [site],
    t,
    setFailure,
  );
  const field = textField(t, form, setForm, (name) => {
    const error = errors[name as Field];
    return error ? t(error) : undefined;
  });

  const problem = (e: unknown): string =>
    t(
      messageFor(e, {
        'last-admin': 'account.error.lastAdmin',
        'already-admin': 'account.error.alreadyAdmin',
        ...OFFLINE_CODES,
      }),
    );

  const save = async (event: SyntheticEvent): Promise<void> => {
    event.preventDefault();
    setSaved(false);
    setFailure(null);
    setErrors({});
    try {
      const next = await api.patch<SiteRecord>(`/admin/sites/${site}`, {
        name: form.name,
        clinicalAdminEmail: form.clinicalAdminEmail.trim() === '' ? null : form.clinicalAdminEmail.trim(),
        locale: form.locale,
        timezone: form.timezone,
      });
      setSaved(true);
      onSaved(next);
    } catch (e) {
      if (e instanceof ApiError && e.details.length > 0) {
        const byField = fieldErrors(e);
        const next: Partial<Record<Field, MessageId>> = {};
        for (const field of Object.keys(FIELD_MESSAGES) as Field[])
          if (byField[field]) next[field] = FIELD_MESSAGES[field];
        setErrors(next);
      } else setFailure(problem(e));
    }
  };

  const sendInvite = async (event: SyntheticEvent): Promise<void> => {
    event.preventDefault();
    setInviteError(null);
    setDone(null);
    setFailure(null);
    try {
      const answer = await api.post<{ email: string; outcome: 'invited' | 'granted' }>(
        `/admin/sites/${site}/admins`,
        {
          email: invite.trim(),
        },
      );
      setDone(
        t(answer.outcome === 'invited' ? 'account.invited' : 'account.granted', { email: answer.email }),
      );
      setInvite('');
      load();
    } catch (e) {
      if (e instanceof ApiError && e.details.length > 0) setInviteError('account.error.email');
      else if (e instanceof ApiError && e.code === 'already-admin')
        setInviteError('account.error.alreadyAdmin');
      else setFailure(problem(e));
    }
  };

  const reset = async (admin: SiteAdmin): Promise<void> => {
    setDone(null);
    setFailure(null);
    try {
      await api.post(`/admin/sites/${site}/admins/${admin.userId}/reset`);
      setDone(t('account.resetSent', { email: admin.email }));
    } catch (e) {
      setFailure(problem(e));
    }
  };

  const remove = async (admin: SiteAdmin): Promise<void> => {
    setRemoving(null);
    setDone(null);
    setFailure(null);
    try {
      await api.del(`/admin/sites/${site}/admins/${admin.userId}`);
      setDone(t('account.removed', { email: admin.email }));
      load();
    } catch (e) {
      setFailure(problem(e));
    }
  };

  const columns: Column<SiteAdmin>[] = [
    { header: t('signIn.email'), cell: (admin) => admin.email },
    {
      header: t('account.status'),
      cell: (admin) => (
        <Badge color={admin.status === 'active' ? 'green' : 'yellow'} variant="light">
          {t(admin.status === 'active' ? 'account.status.active' : 'account.status.invited')}
        </Badge>
      ),
    },
    actionsColumn(t('account.actions'), (admin) => [
      {
        label: t('account.reset'),
        ariaLabel: t('account.reset.label', { email: admin.email }),
        onClick: () => void reset(admin),
      },
      {
        label: t('account.remove'),
        ariaLabel: t('account.remove.label', { email: admin.email }),
        color: 'red',
        onClick: () => setRemoving(admin),
      },
    ]),
  ];
  const zones = CANADIAN_ZONES.includes(form.timezone) ? CANADIAN_ZONES : [form.timezone, ...CANADIAN_ZONES];

  return (
    <Stack>
      <Title order={2}>{t('account.title')}</Title>
      <Failure message={failure} />
      <Notice message={done} />
      <Paper withBorder p="md">
        <form onSubmit={(e) => void save(e)} noValidate>
          <Stack>
            <Title order={3} size="h4">
              {t('account.settings')}
            </Title>
            <TextInput required {...field('name', 'account.name')} />
            <TextInput
              type="email"
              {...field(
                'clinicalAdminEmail',
                'account.clinicalAdminEmail',
                'account.clinicalAdminEmail.help',
              )}
            />
            <Select
              label={t('account.locale')}
              data={[
                { value: 'en', label: 'English' },
                { value: 'fr', label: 'Français' },
              ]}
              value={form.locale}
              allowDeselect={false}
              error={errors.locale ? t(errors.locale) : undefined}
              onChange={(v) => v && setForm({ ...form, locale: v })}
            />
            <Select
              label={t('account.timezone')}
              data={zones}
              value={form.timezone}
              allowDeselect={false}
              searchable
              error={errors.timezone ? t(errors.timezone) : undefined}
              onChange={(v) => v && setForm({ ...form, timezone: v })}
            />
            {saved && (
              <Text role="status" c="#1b5e20">
                {t('account.saved')}
              </Text>
            )}
            <SubmitRow label={t('common.save')} />
          </Stack>
        </form>
      </Paper>
      <Paper withBorder p="md">
        <Stack>
          <Title order={3} size="h4">
            {t('account.admins')}
          </Title>
          <form onSubmit={(e) => void sendInvite(e)} noValidate>
            <Group align="flex-end">
              <TextInput
                label={t('account.invite.email')}
                type="email"
                value={invite}
                error={inviteError ? t(inviteError) : undefined}
                onChange={(e) => setInvite(e.currentTarget.value)}
              />
              <Button type="submit">{t('account.invite')}</Button>
            </Group>
          </form>
          <DataTable rows={admins} rowKey="userId" empty="account.none" columns={columns} />
        </Stack>
      </Paper>
      <Modal opened={removing !== null} onClose={() => setRemoving(null)} title={t('account.remove.title')}>
        <Stack>
          <Text>{t('account.remove.confirm', { email: removing?.email ?? '' })}</Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setRemoving(null)}>
              {t('common.cancel')}
            </Button>
            <Button color="red" onClick={() => removing && void remove(removing)}>
              {t('account.remove')}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
