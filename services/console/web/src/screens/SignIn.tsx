import { Alert, Anchor, Button } from '@mantine/core';
import { useState, type SyntheticEvent, type ReactNode } from 'react';
import { api, ApiError, type SessionView } from '../api';
import { useT, type MessageId } from '../i18n';
import { messageFor, OFFLINE_CODES, SIGN_IN_CODES } from '../problems';
import { Failure } from './DataTable';
import { CredentialInput } from './CredentialInput';
import { ForgotPassword, SignedOutForm, SignedOutPage } from './SetPassword';

/** Sign in with e-mail and password, then (once an authenticator app is set up) its code. */
export function SignIn(props: {
  notice: 'expired' | 'signedOut' | 'passwordSet' | null;
  languageButton: ReactNode;
  onSignedIn: (view: SessionView) => void;
}) {
  const t = useT();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [secondStep, setSecondStep] = useState(false);
  const [error, setError] = useState<MessageId | null>(null);
  const [busy, setBusy] = useState(false);
  const [forgot, setForgot] = useState(() => window.location.hash.startsWith('#/forgot-password'));

  const submit = async (event: SyntheticEvent): Promise<void> => {
    event.preventDefault();
    if (!email.trim() || !password) {
      setError('signIn.error.required');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      props.onSignedIn(await api.signIn(email.trim(), password, secondStep ? code.trim() : undefined));
    } catch (e) {
      const reason = e instanceof ApiError ? e.code : '';
      if (reason === 'code-required' && !secondStep) {
        setSecondStep(true);
        return;
      }
      setError(messageFor(e, { ...SIGN_IN_CODES, throttled: 'signIn.error.throttled', ...OFFLINE_CODES }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <SignedOutPage languageButton={props.languageButton}>
      {forgot ? (
        <ForgotPassword
          onBack={() => {
            setForgot(false);
            if (window.location.hash.startsWith('#/forgot-password')) window.location.hash = '';
          }}
        />
      ) : (
        <SignedOutForm title={t('signIn.title')} intro={t('signIn.intro')} onSubmit={(e) => void submit(e)}>
          {props.notice && (
            <Alert color={props.notice === 'expired' ? 'yellow' : 'blue'} role="status">
              {t(
                props.notice === 'expired'
                  ? 'signIn.expired'
                  : props.notice === 'passwordSet'
                    ? 'password.done'
                    : 'signIn.signedOut',
              )}
            </Alert>
          )}
          <Failure message={error && t(error)} />
          <CredentialInput kind="email" label={t('signIn.email')} state={[email, setEmail]} />
          <CredentialInput
            kind="current-password"
            label={t('signIn.password')}
            required
            state={[password, setPassword]}
          />
          {secondStep && (
            <CredentialInput
              kind="one-time-code"
              label={t('signIn.code')}
              description={t('signIn.code.help')}
              autoFocus
              state={[code, setCode]}
            />
          )}
          <Button type="submit" loading={busy}>
            {t('signIn.submit')}
          </Button>
          <Anchor component="button" type="button" size="sm" onClick={() => setForgot(true)}>
            {t('signIn.forgot.link')}
          </Anchor>
        </SignedOutForm>
      )}
    </SignedOutPage>
  );
}
