import { Alert, Button, Group, PasswordInput, Stack, TextInput } from '@mantine/core';
import { useState } from 'react';
import { api, ApiError } from '../api';
import { useT } from '../i18n';

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
        <PasswordInput
          label={t('sek.password')}
          autoComplete="current-password"
          value={password}
          error={error === 'invalid-credentials' ? t('signIn.error.invalid') : undefined}
          onChange={(e) => setPassword(e.currentTarget.value)}
        />
        <TextInput
          label={t('fresh.code')}
          autoComplete="one-time-code"
          inputMode="numeric"
          value={code}
          error={
            error === 'code-required'
              ? t('signIn.error.codeRequired')
              : error === 'invalid-code'
                ? t('signIn.error.code')
                : undefined
          }
          onChange={(e) => setCode(e.currentTarget.value)}
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
