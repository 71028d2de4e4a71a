import { Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { api, type EmrStatus, type Provider, type SettingsView } from '../api';
import { useT } from '../i18n';
import { failureText } from '../problems';
import { useSite } from '../site';
import { Failure, Notice } from './DataTable';
import { Section } from './Section';
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
      (e: unknown) => setError(failureText(e, t)),
    );
  }, [site]);

  return (
    <Section id="settings-title" title={t('settings.title')}>
      <Failure message={error} />
      <Notice message={saved ? t('settings.saved') : null} />
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
    </Section>
  );
}
