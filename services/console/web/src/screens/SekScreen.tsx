import { Alert, Button, Code, Group, PasswordInput, Stack, Text } from '@mantine/core';
import { useState, type SyntheticEvent } from 'react';
import { api, ApiError } from '../api';
import { useT, type MessageId } from '../i18n';
import { codeMessage, failureText, SIGN_IN_CODES } from '../problems';
import { useSite } from '../site';
import { Failure, Notice } from './DataTable';
import { FreshSignInFields } from './FreshSignIn';
import { Section, SubmitRow } from './Section';

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
    const known =
      codeMessage(e, { ...SIGN_IN_CODES, 'mfa-required': 'security.mfa.required' }) ??
      (e instanceof ApiError && e.status === 404 ? 'sek.none' : undefined);
    setError(known ? t(known) : failureText(e, t));
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
    <Section id="sek-title" title={t('sek.title')} maw={640}>
      <Alert color="yellow">{t('sek.intro')}</Alert>
      <Failure message={error} />
      <Notice message={notice && t(notice)} />
      <form onSubmit={view} noValidate>
        <Stack>
          <FreshSignInFields password={[password, setPassword]} code={[code, setCode]} />
          <SubmitRow label={t('sek.view')} busy={busy} />
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
    </Section>
  );
}
