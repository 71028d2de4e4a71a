import type { ConsoleConfig } from './config';

export type Upstream = 'vault' | 'emr-gateway' | 'referral-intake';

const SITE = '[1-9][0-9]{0,9}';
const ID = '[A-Za-z0-9._~-]{1,100}';
const UUID = '[0-9a-fA-F-]{36}';

/**
 * The admin API the console exposes under `/api`, path for path the services' own: each pattern
 * names the one service that answers it. Anything else is not forwarded (404), so a page can
 * never reach a service-to-service endpoint (PHI encryption, for one) through the console.
 */
const ROUTES: { pattern: RegExp; upstream: Upstream }[] = [
  { pattern: new RegExp(`^/admin/sites/${SITE}$`), upstream: 'vault' },
  { pattern: /^\/admin\/openapi\.json$/, upstream: 'vault' },
  { pattern: new RegExp(`^/admin/sites/${SITE}/admins(/${UUID}(/reset)?)?$`), upstream: 'vault' },
  { pattern: new RegExp(`^/sites/${SITE}/sek(/history)?$`), upstream: 'vault' },
  { pattern: new RegExp(`^/sites/${SITE}/audit(/verify)?$`), upstream: 'vault' },
  { pattern: new RegExp(`^/admin/sites/${SITE}/emr(/(${ID})){0,3}$`), upstream: 'emr-gateway' },
  { pattern: new RegExp(`^/admin/sites/${SITE}/integrations(/(${ID})){0,3}$`), upstream: 'referral-intake' },
  { pattern: new RegExp(`^/admin/sites/${SITE}/oauth-clients(/(${ID})){0,2}$`), upstream: 'referral-intake' },
  // The signed-in person's own account: sessions, sign out everywhere, authenticator app.
  { pattern: new RegExp(`^/auth/sessions(/${UUID})?$`), upstream: 'vault' },
  { pattern: /^\/auth\/logout-everywhere$/, upstream: 'vault' },
  { pattern: /^\/auth\/mfa(\/totp(\/confirm)?)?$/, upstream: 'vault' },
];

export function upstreamFor(path: string): Upstream | null {
  return ROUTES.find((route) => route.pattern.test(path))?.upstream ?? null;
}

export function upstreamUrl(config: ConsoleConfig, upstream: Upstream): string {
  switch (upstream) {
    case 'vault':
      return config.VAULT_SERVICE_URL;
    case 'emr-gateway':
      return config.EMR_GATEWAY_URL;
    case 'referral-intake':
      return config.REFERRAL_INTAKE_URL;
  }
}
