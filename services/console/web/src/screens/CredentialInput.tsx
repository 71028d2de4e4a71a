import { PasswordInput, TextInput } from '@mantine/core';

/** The fields of signing in, each with the hints browsers and password managers go by. */
const KINDS = {
  email: { secret: false, type: 'email', autoComplete: 'username', inputMode: undefined },
  'current-password': {
    secret: true,
    type: undefined,
    autoComplete: 'current-password',
    inputMode: undefined,
  },
  'new-password': { secret: true, type: undefined, autoComplete: 'new-password', inputMode: undefined },
  'one-time-code': { secret: false, type: undefined, autoComplete: 'one-time-code', inputMode: 'numeric' },
} as const;

/** An e-mail, a password (the current one or a new one) or an authenticator app's code. */
export function CredentialInput(props: {
  kind: keyof typeof KINDS;
  label: string;
  value: string;
  onChange: (value: string) => void;
  description?: string;
  error?: string | undefined;
  required?: boolean;
  autoFocus?: boolean;
}) {
  const kind = KINDS[props.kind];
  const common = {
    label: props.label,
    description: props.description,
    autoComplete: kind.autoComplete,
    required: props.required,
    'data-autofocus': props.autoFocus || undefined,
    value: props.value,
    error: props.error,
    onChange: (e: { currentTarget: HTMLInputElement }) => props.onChange(e.currentTarget.value),
  };
  return kind.secret ? (
    <PasswordInput {...common} />
  ) : (
    <TextInput {...common} type={kind.type} inputMode={kind.inputMode} />
  );
}
