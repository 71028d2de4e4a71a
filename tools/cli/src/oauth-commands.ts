import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { adminCall, siteNumber } from './api';
import { CliError, printJson, wholeNumber } from './output';
import { siteRead } from './site-reads';

/**
 * `oauth-client ...`: integrators' OAuth credentials through the referral-intake service's admin
 * API (REFERRAL_INTAKE_URL, default http://127.0.0.1:3001), as the signed-in site admin.
 */
const path = (site: string, rest = ''): string => `/admin/sites/${siteNumber(site)}/oauth-clients${rest}`;

function readJwks(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch {
    throw new CliError('invalid-argument', `cannot read a JSON JWK Set from ${file}`, 2);
  }
}

const SHOWN_ONCE = 'the clientSecret is shown this once; store it now';

export function registerOAuthCommands(program: Command): void {
  const oauth = program
    .command('oauth-client')
    .description("integrators' OAuth client credentials of a site (SMART Backend Services)");

  oauth
    .command('create')
    .description('issue a credential: client id and a secret printed once')
    .requiredOption('--site <n>', 'site number')
    .requiredOption('--name <name>', 'credential name (unique in the site)')
    .option('--scope <scopes...>', 'granted SMART scopes', [
      'system/ServiceRequest.rs',
      'system/Bundle.rs',
      'system/Patient.rs',
    ])
    .option('--jwks-file <path>', 'public JWK Set (JSON) for private_key_jwt')
    .option('--jwks-url <url>', 'URL of the client JWK Set for private_key_jwt')
    .action(
      async (o: { site: string; name: string; scope: string[]; jwksFile?: string; jwksUrl?: string }) => {
        const issued = await adminCall('referral-intake', 'POST', path(o.site), {
          name: o.name,
          scopes: o.scope,
          jwks: o.jwksFile ? readJwks(o.jwksFile) : null,
          jwksUrl: o.jwksUrl ?? null,
        });
        printJson({ ...(issued as object), note: SHOWN_ONCE });
      },
    );

  siteRead(oauth, 'list', 'credentials of a site (never their secrets)', 'referral-intake', '/oauth-clients');

  oauth
    .command('revoke')
    .description(
      'revoke a credential now (no new tokens; tokens already issued expire within their short lifetime)',
    )
    .requiredOption('--site <n>', 'site number')
    .requiredOption('--client-id <id>', 'client id')
    .action(async (o: { site: string; clientId: string }) =>
      printJson({
        client: await adminCall(
          'referral-intake',
          'POST',
          path(o.site, `/${encodeURIComponent(o.clientId)}/revoke`),
        ),
      }),
    );

  oauth
    .command('rotate')
    .description('issue a new secret; the previous one keeps working for the overlap')
    .requiredOption('--site <n>', 'site number')
    .requiredOption('--client-id <id>', 'client id')
    .option(
      '--overlap-seconds <s>',
      'how long the previous secret stays valid (default: the service setting)',
      wholeNumber,
    )
    .action(async (o: { site: string; clientId: string; overlapSeconds?: number }) => {
      const issued = await adminCall(
        'referral-intake',
        'POST',
        path(o.site, `/${encodeURIComponent(o.clientId)}/rotate`),
        o.overlapSeconds === undefined ? {} : { overlapSeconds: o.overlapSeconds },
      );
      printJson({ ...(issued as object), note: SHOWN_ONCE });
    });
}
