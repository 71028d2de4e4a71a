import { Alert, Button, Group, Stack } from '@mantine/core';
import { useState } from 'react';
import { api, ApiError } from '../api';
import { useT } from '../i18n';
import { CredentialInput, type TextState } from './CredentialInput';

/** A fresh sign-in's fields: the password again and, once an authenticator app is set up, its code. */
export function FreshSignInFields(props: {
  password: TextState;
  code: TextState;
  passwordError?: string | undefined;
  codeError?: string | undefined;
}) {
  const t = useT();
  return (
    <>
      <CredentialInput
        kind="current-password"
        label={t('sek.password')}
        state={props.password}
        error={props.passwordError}
      />
      <CredentialInput
        kind="one-time-code"
        label={t('fresh.code')}
        state={props.code}
        error={props.codeError}
      />
    </>
  );
}

/**
 * Asked when an action needs a recent sign-in (the step-up): the password again and, once an
 * authenticator app is set up, its code; then the action is retried.
 */
export function FreshSignIn({ onDone }: { onDone: () => void }) {
  const t = useT();
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <Alert color="yellow" title={t('fresh.title')}>
      <Stack>
        <FreshSignInFields
          password={[password, setPassword]}
          code={[code, setCode]}
          passwordError={error === 'invalid-credentials' ? t('signIn.error.invalid') : undefined}
          codeError={
            error === 'code-required'
              ? t('signIn.error.codeRequired')
              : error === 'invalid-code'
                ? t('signIn.error.code')
                : undefined
          }
        />
        <Group>
          <Button
            onClick={() => {
              api.reauthenticate(password, code.trim() || undefined).then(
                () => {
                  setPassword('');
                  setCode('');
                  onDone();
                },
                (e: unknown) => setError(e instanceof ApiError ? e.code : 'error'),
              );
            }}
          >
            {t('fresh.submit')}
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}

/** The fresh sign-in dialog while an action waits for it (`retry`), then that action again. */
export function RetryAfterFreshSignIn({ retry, clear }: { retry: (() => void) | null; clear: () => void }) {
  if (!retry) return null;
  return (
    <FreshSignIn
      onDone={() => {
        clear();
        retry();
      }}
    />
  );
}
