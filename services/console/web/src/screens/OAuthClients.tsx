import { Badge, Button, Group, MultiSelect, Paper, Stack, TextInput, Textarea, Title } from '@mantine/core';
import { useCallback, useEffect, useState, type SyntheticEvent } from 'react';
import { api, ApiError } from '../api';
import { useT } from '../i18n';
import { useFormatTime, useSite } from '../site';
import { DataTable, Failure } from './DataTable';
import { RetryAfterFreshSignIn } from './FreshSignIn';
import { SecretOnce } from './SecretOnce';

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

/** Manage OAuth Credentials: name → client id + secret shown once; JWKS URL or public keys for private_key_jwt; rotate, revoke. */
export function OAuthClients() {
  const t = useT();
  const time = useFormatTime();
  const { site } = useSite();
  const [clients, setClients] = useState<OAuthClient[] | null>(null);
  const [needsFresh, setNeedsFresh] = useState<(() => void) | null>(null);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['system/ServiceRequest.rs']);
  const [jwksUrl, setJwksUrl] = useState('');
  const [jwks, setJwks] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [issued, setIssued] = useState<{ clientId: string; secret: string } | null>(null);

  const load = useCallback(() => {
    api.get<{ clients: OAuthClient[] }>(`/admin/sites/${site}/oauth-clients`).then(
      (a) => setClients(a.clients),
      (e: unknown) => setFailure(e instanceof ApiError && e.message ? e.message : t('common.error.generic')),
    );
  }, [site, t]);
  useEffect(load, [load]);

  const act = async (work: () => Promise<void>): Promise<void> => {
    setFailure(null);
    try {
      await work();
    } catch (e) {
      // Creating credentials needs a sign-in within 5 minutes: ask for it, then retry.
      if (e instanceof ApiError && e.code === 'reauthentication-required') {
        setNeedsFresh(() => () => void act(work));
        return;
      }
      if (e instanceof ApiError && e.details.length > 0) {
        const found: Record<string, string> = {};
        for (const d of e.details) {
          const [path, ...rest] = d.split(': ');
          found[(path ?? '').split('.')[0] ?? ''] = rest.join(': ');
        }
        setErrors(found);
      }
      setFailure(e instanceof ApiError && e.message ? e.message : t('common.error.generic'));
    }
  };

  const create = (event: SyntheticEvent): void => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!name.trim()) found['name'] = t('oauth.error.name');
    if (scopes.length === 0) found['scopes'] = t('oauth.error.scopes');
    let keySet: unknown = null;
    if (jwks.trim()) {
      try {
        keySet = JSON.parse(jwks) as unknown;
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
          name: name.trim(),
          scopes,
          jwksUrl: jwksUrl.trim() || null,
          jwks: keySet,
        },
      );
      if (answer.clientSecret) setIssued({ clientId: answer.client.clientId, secret: answer.clientSecret });
      setName('');
      setJwks('');
      setJwksUrl('');
      load();
    });
  };

  return (
    <Stack>
      <RetryAfterFreshSignIn retry={needsFresh} clear={() => setNeedsFresh(null)} />
      <Failure message={failure} />
      <SecretOnce
        secret={issued && { label: t('oauth.issued', { clientId: issued.clientId }), value: issued.secret }}
        onDismiss={() => setIssued(null)}
      />
      <Paper withBorder p="md" component="section" aria-labelledby="oauth-title">
        <Stack>
          <Title order={2} size="h3" id="oauth-title">
            {t('oauth.title')}
          </Title>
          <DataTable
            rows={clients}
            rowKey={(c) => c.clientId}
            empty={t('oauth.none')}
            columns={[
              { header: t('oauth.name'), cell: (c) => c.name },
              {
                header: t('oauth.clientId'),
                cell: (c) => <code data-testid="client-id">{c.clientId}</code>,
              },
              { header: t('oauth.scopes'), cell: (c) => c.scopes.join(' ') },
              { header: t('oauth.created'), cell: (c) => time(c.createdAt) },
              {
                header: t('integrations.actions'),
                cell: (c) =>
                  c.revokedAt ? (
                    <Badge color="gray.8">{t('oauth.revoked')}</Badge>
                  ) : (
                    <Group gap="xs">
                      {c.secrets.length > 0 && (
                        <Button
                          size="xs"
                          variant="default"
                          onClick={() =>
                            void act(async () => {
                              const a = await api.post<{ clientSecret?: string }>(
                                `/admin/sites/${site}/oauth-clients/${c.clientId}/rotate`,
                              );
                              if (a.clientSecret) setIssued({ clientId: c.clientId, secret: a.clientSecret });
                              load();
                            })
                          }
                        >
                          {t('oauth.rotate')}
                        </Button>
                      )}
                      <Button
                        size="xs"
                        color="red.9"
                        variant="outline"
                        onClick={() => {
                          if (!window.confirm(t('oauth.revoke.confirm', { name: c.name }))) return;
                          void act(async () => {
                            await api.post(`/admin/sites/${site}/oauth-clients/${c.clientId}/revoke`);
                            load();
                          });
                        }}
                      >
                        {t('oauth.revoke')}
                      </Button>
                    </Group>
                  ),
              },
            ]}
          />
        </Stack>
      </Paper>
      <Paper withBorder p="md" component="section" aria-labelledby="oauth-new-title">
        <form onSubmit={create} noValidate>
          <Stack maw={640}>
            <Title order={2} size="h3" id="oauth-new-title">
              {t('oauth.new')}
            </Title>
            <TextInput
              label={t('oauth.name')}
              required
              value={name}
              error={errors['name']}
              onChange={(e) => setName(e.currentTarget.value)}
            />
            <MultiSelect
              label={t('oauth.scopes')}
              data={SCOPES}
              value={scopes}
              error={errors['scopes']}
              onChange={setScopes}
            />
            <TextInput
              label={t('oauth.jwksUrl')}
              description={t('oauth.jwks.help')}
              value={jwksUrl}
              error={errors['jwksUrl']}
              onChange={(e) => setJwksUrl(e.currentTarget.value)}
            />
            <Textarea
              label={t('oauth.jwks')}
              autosize
              minRows={2}
              value={jwks}
              error={errors['jwks']}
              onChange={(e) => setJwks(e.currentTarget.value)}
            />
            <Group>
              <Button type="submit">{t('oauth.create')}</Button>
            </Group>
          </Stack>
        </form>
      </Paper>
    </Stack>
  );
}
