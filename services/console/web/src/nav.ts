export type Screen =
  'dashboard' | 'integrate' | 'settings' | 'sek' | 'integrations' | 'oauth' | 'audit' | 'card' | 'account';
export const SCREENS: Screen[] = [
  'dashboard',
  'integrate',
  'settings',
  'sek',
  'integrations',
  'oauth',
  'audit',
  'card',
  'account',
];

/** The one-time token of an e-mailed link (`#/set-password?token=…`), or null. */
export function passwordLinkToken(): string | null {
  const hash = window.location.hash.replace(/^#\/?/, '');
  if (!hash.startsWith('set-password')) return null;
  return new URLSearchParams(hash.split('?')[1] ?? '').get('token') ?? '';
}

export function screenFromHash(): Screen {
  const name = window.location.hash.replace(/^#\/?/, '').split('?')[0] as Screen;
  return SCREENS.includes(name) ? name : 'dashboard';
}

export function go(screen: Screen): void {
  window.location.hash = `/${screen}`;
}
