import type { DynamicModule } from '@nestjs/common';
import type { ServiceContext } from './bootstrap';
import { CoreModule, type CoreModuleOptions, type CoreSettings } from './core.module';

/** What differs between the services' cores; the rest comes from the service's context. */
export interface ServiceCoreOptions {
  entities?: CoreModuleOptions['database']['entities'];
  migrations: CoreModuleOptions['database']['migrations'];
  /** Main topics the service produces to or consumes from. */
  topics: string[];
  vault?: CoreModuleOptions['vault'];
  /** Tables the runtime role may only read and append to (see DATABASE_MIGRATION_URL). */
  appendOnlyTables?: string[];
}

/**
 * A service's CoreModule: its config, logger and metrics, its database schema (from
 * `DATABASE_SCHEMA`) with its entities and migrations, its topics and, when it uses Vault, Vault.
 */
export function serviceCore(
  serviceName: string,
  { config, logger, metrics }: ServiceContext<CoreSettings & { DATABASE_SCHEMA: string }>,
  options: ServiceCoreOptions,
): DynamicModule {
  return CoreModule.forRoot({
    serviceName,
    config,
    logger,
    metrics,
    database: {
      schema: config.DATABASE_SCHEMA,
      entities: options.entities ?? [],
      migrations: options.migrations,
      ...(options.appendOnlyTables ? { appendOnlyTables: options.appendOnlyTables } : {}),
    },
    messaging: { topics: options.topics },
    ...(options.vault ? { vault: options.vault } : {}),
  });
}
