import { Alert, Button, Group, PasswordInput, Stack } from '@mantine/core';
import { useState } from 'react';
import { api, ApiError } from '../api';
import { useT } from '../i18n';

/** Asked when an action needs a recent sign-in: the password again, then the action is retried. */
export function FreshSignIn({ onDone }: { onDone: () => void }) {
  const t = useT();
  const [password, setPassword] = useState('');
  const [error, setError] = useState(false);
  return (
    <Alert color="yellow" title={t('fresh.title')}>
      <Stack>
        <PasswordInput
          label={t('sek.password')}
          autoComplete="current-password"
          value={password}
          error={error ? t('signIn.error.invalid') : undefined}
          onChange={(e) => setPassword(e.currentTarget.value)}
        />
        <Group>
          <Button
            onClick={() => {
              api.reauthenticate(password).then(
                () => {
                  setPassword('');
                  onDone();
                },
                (e: unknown) => setError(e instanceof ApiError),
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
