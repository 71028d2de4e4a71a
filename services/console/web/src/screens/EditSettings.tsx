import { Alert, Paper, Stack, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { api, ApiError, type EmrStatus, type Provider, type SettingsView } from '../api';
import { useT } from '../i18n';
import { useSite } from '../site';
import { SettingsForm } from './SettingsForm';

export function EditSettings() {
  const t = useT();
  const { site } = useSite();
  const [state, setState] = useState<{
    providers: Provider[];
    view: SettingsView;
    connected: boolean;
  } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    setState(null);
    Promise.all([
      api.get<EmrStatus>(`/admin/sites/${site}/emr`),
      api.get<{ providers: Provider[] }>(`/admin/sites/${site}/emr/providers`),
      api.get<SettingsView>(`/admin/sites/${site}/emr/settings`),
    ]).then(
      ([status, providers, view]) =>
        setState({
          providers: providers.providers,
          view,
          connected: status.connection.status !== 'not-configured',
        }),
      (e: unknown) => setError(e instanceof ApiError && e.message ? e.message : t('common.error.generic')),
    );
  }, [site]);

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="settings-title">
      <Stack>
        <Title order={2} size="h3" id="settings-title">
          {t('settings.title')}
        </Title>
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        {saved && (
          <Alert color="green" role="status">
            {t('settings.saved')}
          </Alert>
        )}
        {!state ? (
          !error && <Text>{t('common.loading')}</Text>
        ) : !state.connected ? (
          <Text>{t('settings.notConnected')}</Text>
        ) : (
          <SettingsForm
            key={state.view.version}
            providers={state.providers}
            view={state.view}
            onSaved={(view) => {
              setSaved(true);
              setState({ ...state, view });
            }}
          />
        )}
      </Stack>
    </Paper>
  );
}
