import { PRODUCT_EVENTS } from '@cloud-connect/contracts';
import { createServiceDataSource, migrateSchema, OutboxWriter, schemaOf } from '@cloud-connect/db';
import { EventRegistry } from '@cloud-connect/kafka';
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { DataSource } from 'typeorm';
import { INTAKE_MIGRATIONS } from '../../../services/referral-intake/src/database';
import { OAuthClientError } from '../../../services/referral-intake/src/oauth/oauth-client';
import {
  CreateOAuthClient,
  ListOAuthClients,
  RevokeOAuthClient,
  RotateOAuthClientSecret,
  type OAuthClientDeps,
} from '../../../services/referral-intake/src/oauth/oauth-client-use-cases';
import { loadOAuthConfig } from '../../../services/referral-intake/src/oauth/oauth-config';
import { CliError, printJson } from './output';
import { cliEgressPolicy } from './integration-commands';

/**
 * `oauth-client ...`: integrators' OAuth credentials, run next to the database through the
 * referral-intake service's own use cases (same rules, same audit events through its outbox).
 */
async function withOAuth<T>(
  databaseUrl: () => string,
  work: (deps: OAuthClientDeps) => Promise<T>,
): Promise<T> {
  const dataSource: DataSource = createServiceDataSource({
    url: databaseUrl(),
    schema: process.env['INTAKE_DATABASE_SCHEMA'] ?? 'intake',
    applicationName: 'cloud-connect-cli',
    migrations: INTAKE_MIGRATIONS,
    poolSize: 2,
  });
  await dataSource.initialize();
  try {
    await migrateSchema(dataSource);
    const registry = new EventRegistry(PRODUCT_EVENTS);
    const schema = schemaOf(dataSource);
    return await work({
      dataSource,
      schema,
      outbox: new OutboxWriter(registry, schema),
      registry,
      rotationOverlapSeconds: loadOAuthConfig().OAUTH_ROTATION_OVERLAP_SECONDS,
      egress: cliEgressPolicy(),
    });
  } catch (error) {
    if (error instanceof OAuthClientError) {
      throw new CliError(
        error.code,
        error.message,
        error.code === 'invalid-client-input' ? 2 : 1,
        error.details,
      );
    }
    throw error;
  } finally {
    await dataSource.destroy();
  }
}

const actor = (): string => `operator:${userInfo().username}`;

function readJwks(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    throw new CliError('invalid-argument', `cannot read a JSON JWK Set from ${path}`, 2);
  }
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new CliError('invalid-argument', `not a whole number: ${value}`, 2);
  return n;
}

const SHOWN_ONCE = 'the clientSecret is shown this once; store it now';

export function registerOAuthCommands(program: Command, databaseUrl: () => string): void {
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
        const issued = await withOAuth(databaseUrl, (deps) =>
          new CreateOAuthClient(deps).execute(
            o.site,
            {
              name: o.name,
              scopes: o.scope,
              jwks: o.jwksFile
                ? (readJwks(o.jwksFile) as { keys: { kty: 'RSA' | 'EC'; kid: string }[] })
                : null,
              jwksUrl: o.jwksUrl ?? null,
            },
            actor(),
          ),
        );
        printJson({ ...issued, note: SHOWN_ONCE });
      },
    );

  oauth
    .command('list')
    .description('credentials of a site (never their secrets)')
    .requiredOption('--site <n>', 'site number')
    .action(async (o: { site: string }) => {
      printJson({
        clients: await withOAuth(databaseUrl, (deps) => new ListOAuthClients(deps).execute(o.site)),
      });
    });

  oauth
    .command('revoke')
    .description(
      'revoke a credential now (no new tokens; tokens already issued expire within their short lifetime)',
    )
    .requiredOption('--site <n>', 'site number')
    .requiredOption('--client-id <id>', 'client id')
    .action(async (o: { site: string; clientId: string }) => {
      printJson({
        client: await withOAuth(databaseUrl, (deps) =>
          new RevokeOAuthClient(deps).execute(o.site, o.clientId, actor()),
        ),
      });
    });

  oauth
    .command('rotate')
    .description('issue a new secret; the previous one keeps working for the overlap')
    .requiredOption('--site <n>', 'site number')
    .requiredOption('--client-id <id>', 'client id')
    .option(
      '--overlap-seconds <s>',
      'how long the previous secret stays valid (default OAUTH_ROTATION_OVERLAP_SECONDS)',
      wholeNumber,
    )
    .action(async (o: { site: string; clientId: string; overlapSeconds?: number }) => {
      const issued = await withOAuth(databaseUrl, (deps) =>
        new RotateOAuthClientSecret(deps).execute(
          o.site,
          o.clientId,
          o.overlapSeconds === undefined ? {} : { overlapSeconds: o.overlapSeconds },
          actor(),
        ),
      );
      printJson({ ...issued, note: SHOWN_ONCE });
    });
}
