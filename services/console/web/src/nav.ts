export type Screen =
  'dashboard' | 'integrate' | 'settings' | 'sek' | 'integrations' | 'oauth' | 'audit' | 'card';
export const SCREENS: Screen[] = [
  'dashboard',
  'integrate',
  'settings',
  'sek',
  'integrations',
  'oauth',
  'audit',
  'card',
];

export function screenFromHash(): Screen {
  const name = window.location.hash.replace(/^#\/?/, '').split('?')[0] as Screen;
  return SCREENS.includes(name) ? name : 'dashboard';
}

export function go(screen: Screen): void {
  window.location.hash = `/${screen}`;
}
