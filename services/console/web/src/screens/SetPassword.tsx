import { Alert, Anchor, Button, Container, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { useState, type ReactNode, type SyntheticEvent } from 'react';
import { api, ApiError, fieldErrors } from '../api';
import { useT, type MessageId } from '../i18n';
import { messageFor, OFFLINE_CODES } from '../problems';
import { CredentialInput } from './CredentialInput';
import { Failure } from './DataTable';

/** The frame of the pages people see signed out: the language button above one card. */
export function SignedOutPage(props: { languageButton: ReactNode; children: ReactNode }) {
  return (
    <Container size={440} py="xl" component="main">
      <Group justify="flex-end" mb="md">
        {props.languageButton}
      </Group>
      <Paper withBorder p="lg" shadow="xs">
        {props.children}
      </Paper>
    </Container>
  );
}

/** A signed-out page's form: its heading and a sentence on what it is for, then its fields (checked here). */
export function SignedOutForm(props: {
  title: string;
  intro?: string;
  onSubmit: (event: SyntheticEvent) => void;
  children: ReactNode;
}) {
  return (
    <form onSubmit={props.onSubmit} noValidate>
      <Stack>
        <Title order={1} size="h2">
          {props.title}
        </Title>
        {props.intro && <Text>{props.intro}</Text>}
        {props.children}
      </Stack>
    </form>
  );
}

/**
 * The page an e-mailed one-time link opens (an invitation or a password reset): choose a
 * password, then sign in with it. The link works once; an expired or used one says so.
 */
export function SetPassword(props: {
  token: string;
  languageButton: ReactNode;
  onDone: (email: string) => void;
}) {
  const t = useT();
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<{ password?: MessageId; confirm?: MessageId }>({});
  const [failure, setFailure] = useState<MessageId | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: SyntheticEvent): Promise<void> => {
    event.preventDefault();
    setFailure(null);
    if (password.length < 12) return setErrors({ password: 'password.error.short' });
    if (password !== confirm) return setErrors({ confirm: 'password.error.mismatch' });
    setErrors({});
    setBusy(true);
    try {
      const { email } = await api.setPassword(props.token, password);
      props.onDone(email);
    } catch (e) {
      if (e instanceof ApiError && fieldErrors(e)['password'])
        setErrors({ password: 'password.error.short' });
      else
        setFailure(
          messageFor(
            e,
            {
              'expired-link': 'password.error.expired',
              'invalid-link': 'password.error.invalidLink',
              ...OFFLINE_CODES,
            },
            e instanceof ApiError && e.status === 400 ? 'password.error.invalidLink' : 'common.error.generic',
          ),
        );
    } finally {
      setBusy(false);
    }
  };

  return (
    <SignedOutPage languageButton={props.languageButton}>
      <SignedOutForm title={t('password.title')} intro={t('password.intro')} onSubmit={(e) => void submit(e)}>
        {failure && (
          <Alert color="red" role="alert">
            {t(failure)}{' '}
            {(failure === 'password.error.expired' || failure === 'password.error.invalidLink') && (
              <Anchor href="#/forgot-password">{t('password.askAgain')}</Anchor>
            )}
          </Alert>
        )}
        <CredentialInput
          kind="new-password"
          label={t('password.new')}
          description={t('password.rule')}
          state={[password, setPassword]}
          error={errors.password && t(errors.password)}
        />
        <CredentialInput
          kind="new-password"
          label={t('password.confirm')}
          state={[confirm, setConfirm]}
          error={errors.confirm && t(errors.confirm)}
        />
        <Button type="submit" loading={busy}>
          {t('password.submit')}
        </Button>
      </SignedOutForm>
    </SignedOutPage>
  );
}

/** "Forgot your password?": one e-mail field; the answer is the same whether or not the account exists. */
export function ForgotPassword(props: { onBack: () => void }) {
  const t = useT();
  const [email, setEmail] = useState('');
  const [error, setError] = useState<MessageId | null>(null);
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (event: SyntheticEvent): Promise<void> => {
    event.preventDefault();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) return setError('forgot.error.email');
    setBusy(true);
    setError(null);
    try {
      await api.forgotPassword(email.trim());
      setSent(true);
    } catch (e) {
      setError(messageFor(e, { throttled: 'forgot.error.throttled', ...OFFLINE_CODES }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <SignedOutForm title={t('forgot.title')} onSubmit={(e) => void submit(e)}>
      {sent ? (
        <Alert color="blue" role="status">
          {t('forgot.sent')}
        </Alert>
      ) : (
        <>
          <Text>{t('forgot.intro')}</Text>
          <Failure message={error && error !== 'forgot.error.email' ? t(error) : null} />
          <CredentialInput
            kind="email"
            label={t('signIn.email')}
            state={[email, setEmail]}
            error={error === 'forgot.error.email' ? t(error) : undefined}
          />
          <Button type="submit" loading={busy}>
            {t('forgot.submit')}
          </Button>
        </>
      )}
      <Anchor component="button" type="button" onClick={props.onBack}>
        {t('forgot.back')}
      </Anchor>
    </SignedOutForm>
  );
}
