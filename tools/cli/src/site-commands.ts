import { PRODUCT_EVENTS } from '@cloud-connect/contracts';
import { createServiceDataSource, migrateSchema, OutboxWriter, schemaOf } from '@cloud-connect/db';
import { EventRegistry } from '@cloud-connect/kafka';
import type { DataSource } from 'typeorm';
import { userInfo } from 'node:os';
import { VAULT_ENTITIES, VAULT_MIGRATIONS } from '../../../services/vault/src/database';
import {
  RegisterSite,
  registerSiteInput,
  SiteError,
  type RegisterSiteInput,
} from '../../../services/vault/src/sites/register-site';
import { CliError } from './output';

/** Runs `work` against the vault service's schema (migrated first), as the vault service would. */
export async function withVaultSchema<T>(
  databaseUrl: string,
  work: (dataSource: DataSource, outbox: OutboxWriter, registry: EventRegistry) => Promise<T>,
): Promise<T> {
  const dataSource = createServiceDataSource({
    url: databaseUrl,
    schema: process.env['VAULT_DATABASE_SCHEMA'] ?? 'vault',
    applicationName: 'cloud-connect-cli',
    entities: VAULT_ENTITIES,
    migrations: VAULT_MIGRATIONS,
    poolSize: 2,
  });
  await dataSource.initialize();
  try {
    await migrateSchema(dataSource);
    const registry = new EventRegistry(PRODUCT_EVENTS);
    return await work(dataSource, new OutboxWriter(registry, schemaOf(dataSource)), registry);
  } finally {
    await dataSource.destroy();
  }
}

/** Who an operator's CLI actions are audited as. */
export function operator(): string {
  return `operator:${userInfo().username}`;
}

/**
 * `site create`: an operator action run next to the database (like a migration), through the
 * `vault` service's own use case, so the same rules, events and audit entry apply. The vault
 * service's outbox relay publishes `site.registered` to the other services.
 */
export async function createSite(
  databaseUrl: () => string,
  input: RegisterSiteInput,
): Promise<Record<string, unknown>> {
  // Bad arguments are refused before anything is touched.
  const checked = registerSiteInput.safeParse(input);
  if (!checked.success) {
    const details = checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new CliError('invalid-site', `invalid site: ${details.join('; ')}`, 2, details);
  }
  try {
    const site = await withVaultSchema(databaseUrl(), (dataSource, outbox, registry) =>
      new RegisterSite(dataSource, outbox, registry).execute(input, operator()),
    );
    return {
      siteNumber: site.siteNumber,
      name: site.name,
      locale: site.locale,
      timezone: site.timezone,
      adminEmail: site.adminEmail,
      clinicalAdminEmail: site.clinicalAdminEmail,
      createdAt: site.createdAt.toISOString(),
    };
  } catch (error) {
    if (error instanceof SiteError) {
      throw new CliError(error.code, error.message, error.code === 'invalid-site' ? 2 : 1, error.details);
    }
    throw error;
  }
}
