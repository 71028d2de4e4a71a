import { Badge, MultiSelect, TextInput, Textarea } from '@mantine/core';
import { useState, type SyntheticEvent } from 'react';
import { api } from '../api';
import { useT } from '../i18n';
import { useFormatTime, useSite } from '../site';
import { textField, useAdminActions, useListed } from '../useAdminActions';
import { ActionsFrame } from './ActionsFrame';
import { actionsColumn, DataTable, type Column } from './DataTable';
import { Section, SubmitRow } from './Section';

interface OAuthClient {
  clientId: string;
  name: string;
  scopes: string[];
  jwksUrl: string | null;
  jwks: unknown;
  revokedAt: string | null;
  createdAt: string;
  secrets: { id: string; hint: string }[];
}

const SCOPES = [
  'system/ServiceRequest.rs',
  'system/Task.rs',
  'system/Patient.rs',
  'system/DocumentReference.rs',
  'system/Appointment.rs',
];

const EMPTY = { name: '', jwksUrl: '', jwks: '' };

/** Manage OAuth Credentials: name → client id + secret shown once; JWKS URL or public keys for private_key_jwt; rotate, revoke. */
export function OAuthClients() {
  const t = useT();
  const time = useFormatTime();
  const { site } = useSite();
  const [form, setForm] = useState(EMPTY);
  const [scopes, setScopes] = useState<string[]>(['system/ServiceRequest.rs']);
  // A detail about a part of a field (`jwks.keys.0`) is shown on the field.
  const actions = useAdminActions(t, (path) => path.split('.')[0] ?? '');
  const { act, setFailure, errors, setErrors } = actions;
  const { rows: clients, reload: load } = useListed(
    async () => (await api.get<{ clients: OAuthClient[] }>(`/admin/sites/${site}/oauth-clients`)).clients,
    [site],
    t,
    setFailure,
  );
  const field = textField(t, form, setForm, (name) => errors[name]);

  const create = (event: SyntheticEvent): void => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!form.name.trim()) found['name'] = t('oauth.error.name');
    if (scopes.length === 0) found['scopes'] = t('oauth.error.scopes');
    let keySet: unknown = null;
    if (form.jwks.trim()) {
      try {
        keySet = JSON.parse(form.jwks) as unknown;
      } catch {
        found['jwks'] = t('oauth.error.jwks');
      }
    }
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    void act(async () => {
      const answer = await api.post<{ client: OAuthClient; clientSecret?: string }>(
        `/admin/sites/${site}/oauth-clients`,
        {
          name: form.name.trim(),
          scopes,
          jwksUrl: form.jwksUrl.trim() || null,
          jwks: keySet,
        },
      );
      actions.showSecret(answer.clientSecret, 'oauth.issued', { clientId: answer.client.clientId });
      setForm(EMPTY);
      load();
    });
  };

  const columns: Column<OAuthClient>[] = [
    { header: t('oauth.name'), cell: (c) => c.name },
    { header: t('oauth.clientId'), cell: (c) => <code data-testid="client-id">{c.clientId}</code> },
    { header: t('oauth.scopes'), cell: (c) => c.scopes.join(' ') },
    { header: t('oauth.created'), cell: (c) => time(c.createdAt) },
    actionsColumn(
      t('integrations.actions'),
      (c) => [
        c.secrets.length > 0 && {
          label: t('oauth.rotate'),
          onClick: () =>
            void act(async () => {
              const a = await api.post<{ clientSecret?: string }>(
                `/admin/sites/${site}/oauth-clients/${c.clientId}/rotate`,
              );
              actions.showSecret(a.clientSecret, 'oauth.issued', { clientId: c.clientId });
              load();
            }),
        },
        {
          label: t('oauth.revoke'),
          color: 'red.9',
          variant: 'outline',
          onClick: () => {
            if (!window.confirm(t('oauth.revoke.confirm', { name: c.name }))) return;
            void act(async () => {
              await api.post(`/admin/sites/${site}/oauth-clients/${c.clientId}/revoke`);
              load();
            });
          },
        },
      ],
      (c) => c.revokedAt !== null && <Badge color="gray.8">{t('oauth.revoked')}</Badge>,
    ),
  ];

  return (
    <ActionsFrame actions={actions}>
      <Section id="oauth-title" title={t('oauth.title')}>
        <DataTable rows={clients} rowKey="clientId" empty="oauth.none" columns={columns} />
      </Section>
      <Section id="oauth-new-title" title={t('oauth.new')} maw={640} onSubmit={create}>
        <TextInput required {...field('name', 'oauth.name')} />
        <MultiSelect
          label={t('oauth.scopes')}
          data={SCOPES}
          value={scopes}
          error={errors['scopes']}
          onChange={setScopes}
        />
        <TextInput {...field('jwksUrl', 'oauth.jwksUrl', 'oauth.jwks.help')} />
        <Textarea autosize minRows={2} {...field('jwks', 'oauth.jwks')} />
        <SubmitRow label={t('oauth.create')} />
      </Section>
    </ActionsFrame>
  );
}
