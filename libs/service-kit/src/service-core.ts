import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { AuthModule, type ServiceKeyConfig } from '@cloud-connect/auth';
import type { ServiceContext } from './bootstrap';
import { CoreModule, type CoreModuleOptions, type CoreSettings } from './core.module';
import { SiteReplicaModule } from './site-replica';

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

/** A service's application module: its core, what it shares with the other services, and its own modules. */
export interface ServiceAppOptions extends ServiceCoreOptions {
  /**
   * Authenticates callers: service tokens signed with `SERVICE_AUTH_SECRET`, and administrators'
   * tokens checked against the keys at `ADMIN_JWKS_URL` ('jwks') or against the keys the service
   * provides itself as `ADMIN_KEY_RESOLVER` ('own': the vault service, which issues them).
   * Left out, the service has no authenticated routes.
   */
  adminKeys?: 'jwks' | 'own';
  /** Keeps the service's local copy of the site directory (`site.registered`). */
  siteReplica?: boolean;
  /** The service's domain modules. */
  modules: NonNullable<DynamicModule['imports']>;
}

type AppSettings = CoreSettings &
  ServiceKeyConfig & {
    DATABASE_SCHEMA: string;
    SERVICE_AUTH_SECRET?: string;
    ADMIN_JWKS_URL?: string;
  };

/** The dynamic module of a service's `AppModule`, so that each app module only says what is its own. */
export function serviceApp(
  module: Type,
  serviceName: string,
  context: ServiceContext<AppSettings>,
  { adminKeys, siteReplica = false, modules, ...core }: ServiceAppOptions,
): DynamicModule {
  const { SERVICE_AUTH_SECRET, ADMIN_JWKS_URL } = context.config;
  const authModules: DynamicModule[] = [];
  if (adminKeys) {
    if (!SERVICE_AUTH_SECRET) throw new Error(`${serviceName}: authentication needs SERVICE_AUTH_SECRET`);
    const adminJwksUrl = adminKeys === 'jwks' ? ADMIN_JWKS_URL : undefined;
    authModules.push(AuthModule.forRoot({ serviceName, serviceKeys: context.config, adminJwksUrl }));
  }
  return {
    module,
    imports: [
      serviceCore(serviceName, context, core),
      ...authModules,
      ...(siteReplica ? [SiteReplicaModule] : []),
      ...modules,
    ],
  };
}

/** A service's root module: `AppModule.register(context)` is its `serviceApp`. */
export interface ServiceAppModule<C> extends Type {
  register(context: ServiceContext<C>): DynamicModule;
}

/** The `AppModule` of a service, from what the service says is its own (`options` of its context). */
export function serviceAppModule<C extends AppSettings>(
  serviceName: string,
  options: (context: ServiceContext<C>) => ServiceAppOptions,
): ServiceAppModule<C> {
  @Module({})
  class AppModule {
    static register(context: ServiceContext<C>): DynamicModule {
      return serviceApp(AppModule, serviceName, context, options(context));
    }
  }
  return AppModule;
}
