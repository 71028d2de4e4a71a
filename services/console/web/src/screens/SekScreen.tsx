import {
  Alert,
  Button,
  Code,
  Group,
  Paper,
  PasswordInput,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useState, type SyntheticEvent } from 'react';
import { api, ApiError } from '../api';
import { useT, type MessageId } from '../i18n';
import { useSite } from '../site';

/** The site's SEK: store, view (after a fresh sign-in; the clinical administrator is e-mailed), replace, remove. */
export function SekScreen() {
  const t = useT();
  const { site } = useSite();
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [shown, setShown] = useState<string | null>(null);
  const [next, setNext] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<MessageId | null>(null);
  const [busy, setBusy] = useState(false);

  const failed = (e: unknown): void => {
    setError(
      e instanceof ApiError && e.code === 'invalid-credentials'
        ? t('signIn.error.invalid')
        : e instanceof ApiError && e.code === 'code-required'
          ? t('signIn.error.codeRequired')
          : e instanceof ApiError && e.code === 'invalid-code'
            ? t('signIn.error.code')
            : e instanceof ApiError && e.code === 'mfa-required'
              ? t('security.mfa.required')
              : e instanceof ApiError && e.status === 404
                ? t('sek.none')
                : e instanceof ApiError && e.message
                  ? e.message
                  : t('common.error.generic'),
    );
  };

  /** A fresh sign-in, then the action (the vault service asks for one within 5 minutes). */
  const fresh = async (action: () => Promise<void>): Promise<void> => {
    setError(null);
    setNotice(null);
    setBusy(true);
    try {
      if (password) await api.reauthenticate(password, code.trim() || undefined);
      await action();
      setPassword('');
      setCode('');
    } catch (e) {
      failed(e);
    } finally {
      setBusy(false);
    }
  };

  const view = (event: SyntheticEvent): void => {
    event.preventDefault();
    void fresh(async () => {
      const answer = await api.get<{ sek: string }>(`/sites/${site}/sek`);
      setShown(answer.sek);
    });
  };

  const replace = (): void => {
    void fresh(async () => {
      try {
        await api.put(`/sites/${site}/sek`, { sek: next.trim() });
        setNotice('sek.replaced');
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 404)) throw e;
        await api.post(`/sites/${site}/sek`, { sek: next.trim() });
        setNotice('wizard.sek.stored');
      }
      setNext('');
      setShown(null);
    });
  };

  const remove = (): void => {
    if (!window.confirm(t('sek.remove.confirm'))) return;
    void fresh(async () => {
      await api.del(`/sites/${site}/sek`);
      setShown(null);
      setNotice('sek.removed');
    });
  };

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="sek-title">
      <Stack maw={640}>
        <Title order={2} size="h3" id="sek-title">
          {t('sek.title')}
        </Title>
        <Alert color="yellow">{t('sek.intro')}</Alert>
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        {notice && (
          <Alert color="green" role="status">
            {t(notice)}
          </Alert>
        )}
        <form onSubmit={view} noValidate>
          <Stack>
            <PasswordInput
              label={t('sek.password')}
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
            />
            <TextInput
              label={t('fresh.code')}
              autoComplete="one-time-code"
              inputMode="numeric"
              value={code}
              onChange={(e) => setCode(e.currentTarget.value)}
            />
            <Group>
              <Button type="submit" loading={busy}>
                {t('sek.view')}
              </Button>
            </Group>
          </Stack>
        </form>
        {shown && (
          <Stack gap="xs">
            <Text fw={600}>{t('sek.value')}</Text>
            <Code block data-testid="sek-value">
              {shown}
            </Code>
            <Group>
              <Button variant="default" onClick={() => setShown(null)}>
                {t('sek.hide')}
              </Button>
            </Group>
          </Stack>
        )}
        <PasswordInput
          label={t('sek.replace.label')}
          autoComplete="off"
          value={next}
          onChange={(e) => setNext(e.currentTarget.value)}
        />
        <Group>
          <Button variant="default" disabled={!next.trim()} loading={busy} onClick={replace}>
            {t('sek.replace')}
          </Button>
          <Button color="red.9" variant="outline" loading={busy} onClick={remove}>
            {t('sek.remove')}
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}
