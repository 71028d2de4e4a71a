import { PasswordInput, TextInput } from '@mantine/core';

/** The fields of signing in, each with the hints browsers and password managers go by. */
const KINDS = {
  email: { secret: false, type: 'email', autoComplete: 'username', inputMode: undefined, required: true },
  'current-password': {
    secret: true,
    type: undefined,
    autoComplete: 'current-password',
    inputMode: undefined,
    required: false,
  },
  'new-password': {
    secret: true,
    type: undefined,
    autoComplete: 'new-password',
    inputMode: undefined,
    required: true,
  },
  'one-time-code': {
    secret: false,
    type: undefined,
    autoComplete: 'one-time-code',
    inputMode: 'numeric',
    required: false,
  },
} as const;

/** A text field's value and what sets it (as `useState` gives them). */
export type TextState = readonly [string, (value: string) => void];

/** An e-mail, a password (the current one or a new one) or an authenticator app's code. */
export function CredentialInput(props: {
  kind: keyof typeof KINDS;
  label: string;
  state: TextState;
  description?: string;
  error?: string | undefined;
  /** Whether it must be filled (by default, as the kind says: an e-mail and a new password must). */
  required?: boolean;
  autoFocus?: boolean;
}) {
  const kind = KINDS[props.kind];
  const [value, setValue] = props.state;
  const common = {
    label: props.label,
    description: props.description,
    autoComplete: kind.autoComplete,
    required: props.required ?? (kind.required || undefined),
    'data-autofocus': props.autoFocus || undefined,
    value,
    error: props.error,
    onChange: (e: { currentTarget: HTMLInputElement }) => setValue(e.currentTarget.value),
  };
  return kind.secret ? (
    <PasswordInput {...common} />
  ) : (
    <TextInput {...common} type={kind.type} inputMode={kind.inputMode} />
  );
}
