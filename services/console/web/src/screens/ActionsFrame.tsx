import { Stack } from '@mantine/core';
import type { ReactNode } from 'react';
import type { AdminActions } from '../useAdminActions';
import { Failure } from './DataTable';
import { RetryAfterFreshSignIn } from './FreshSignIn';
import { SecretOnce } from './SecretOnce';

/**
 * A screen of panels whose actions issue secrets: above the panels, the fresh sign-in an action
 * waits for, the last action's failure and the secret just issued (shown once).
 */
export function ActionsFrame(props: {
  actions: Pick<AdminActions, 'failure' | 'freshSignIn'>;
  secret: { label: string; value: string } | null;
  onDismiss: () => void;
  children: ReactNode;
}) {
  return (
    <Stack>
      <RetryAfterFreshSignIn {...props.actions.freshSignIn} />
      <Failure message={props.actions.failure} />
      <SecretOnce secret={props.secret} onDismiss={props.onDismiss} />
      {props.children}
    </Stack>
  );
}
