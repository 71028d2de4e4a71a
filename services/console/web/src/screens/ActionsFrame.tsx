import { Stack } from '@mantine/core';
import type { ReactNode } from 'react';
import { useT } from '../i18n';
import type { AdminActions } from '../useAdminActions';
import { Failure } from './DataTable';
import { RetryAfterFreshSignIn } from './FreshSignIn';
import { SecretOnce } from './SecretOnce';

/**
 * A screen of panels whose actions issue secrets: above the panels, the fresh sign-in an action
 * waits for, the last action's failure and the secret just issued (shown once).
 */
export function ActionsFrame(props: {
  actions: Pick<AdminActions, 'failure' | 'freshSignIn' | 'secret' | 'dismissSecret'>;
  children: ReactNode;
}) {
  const t = useT();
  const { secret } = props.actions;
  return (
    <Stack>
      <RetryAfterFreshSignIn {...props.actions.freshSignIn} />
      <Failure message={props.actions.failure} />
      <SecretOnce
        secret={secret && { label: t(secret.label, secret.values), value: secret.value }}
        onDismiss={props.actions.dismissSecret}
      />
      {props.children}
    </Stack>
  );
}
