import { Public } from '@cloud-connect/auth';
import {
  type BeforeApplicationShutdown,
  Controller,
  type DynamicModule,
  Get,
  Global,
  Header,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Res,
} from '@nestjs/common';
import {
  createServiceDataSource,
  describeDatabaseTlsError,
  grantServiceRole,
  migrateSchema,
  pingDatabase,
  roleOfUrl,
} from '@cloud-connect/db';
import { vaultTokenMetrics, type Logger } from '@cloud-connect/observability';
import type { FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';
import { DataSource, type EntitySchema, type MixedList } from 'typeorm';
import { MessagingService } from './messaging.service';
import { ReadinessRegistry } from './readiness';
import { LOGGER, METRICS_REGISTRY, SERVICE_CONFIG, VAULT_CLIENT } from './tokens';
import {
  createVaultClient,
  vaultIsReady,
  vaultTokenLease,
  type VaultClient,
  type VaultClientSettings,
} from './vault-client';

export interface CoreSettings {
  DATABASE_URL: string;
  /** The schema owner's URL: migrations (and the grants to DATABASE_URL's role) run with it. */
  DATABASE_MIGRATION_URL?: string | undefined;
  DATABASE_POOL_SIZE: number;
  DATABASE_SSL_MODE?: 'disable' | 'verify-full' | undefined;
  DATABASE_CA_FILE?: string | undefined;
  KAFKA_BROKERS: string[];
  KAFKA_CLIENT_ID?: string | undefined;
  KAFKA_TOPIC_REPLICATION_FACTOR?: number | undefined;
  KAFKA_TOPIC_MIN_INSYNC_REPLICAS?: number | undefined;
  KAFKA_GROUP_PREFIX?: string | undefined;
  KAFKA_GROUP_START_AT?: number | undefined;
  KAFKA_SASL_MECHANISM?: 'scram-sha-512' | 'scram-sha-256' | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD_FILE?: string | undefined;
  KAFKA_TLS?: boolean | undefined;
  KAFKA_TLS_CA_FILE?: string | undefined;
}

export interface CoreModuleOptions {
  serviceName: string;
  config: CoreSettings;
  logger: Logger;
  metrics: Registry;
  database: {
    schema: string;
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
    entities: MixedList<Function | string | EntitySchema>;
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
    migrations: MixedList<Function | string>;
    /** Tables the runtime role may only read and append to (the audit trail). */
    appendOnlyTables?: string[];
  };
  messaging: { topics: string[] };
  /** Services that use Vault pass its settings; readiness then includes Vault (unless `inReadiness` is false). */
  vault?: VaultClientSettings & { inReadiness?: boolean };
}

const STARTUP_RETRY_MS = 30000;

/**
 * With DATABASE_MIGRATION_URL (the schema owner), migrations run under that role in a short-lived
 * connection, which then grants DATABASE_URL's role its rights in the schema; the service itself
 * runs as that role, which cannot change the schema. Without it, the service migrates itself.
 */
async function migrateAndGrant(options: CoreModuleOptions, logger: Logger): Promise<string[]> {
  const url = options.config.DATABASE_MIGRATION_URL;
  if (!url) return [];
  const owner = createServiceDataSource({
    url,
    schema: options.database.schema,
    applicationName: `${options.serviceName}-migrate`,
    entities: [],
    migrations: options.database.migrations,
    // migrateSchema holds one connection (the advisory lock) while the migrations use another.
    poolSize: 2,
    tls: databaseTls(options.config),
  });
  await withStartupRetries('postgres', logger, () => owner.initialize(), describeDatabaseTlsError);
  try {
    const ran = await migrateSchema(owner);
    const role = roleOfUrl(options.config.DATABASE_URL);
    if (role !== roleOfUrl(url)) await grantServiceRole(owner, role, options.database.appendOnlyTables ?? []);
    return ran;
  } finally {
    await owner.destroy();
  }
}

function databaseTls(config: CoreSettings): { mode?: 'disable' | 'verify-full'; caFile?: string } {
  return {
    ...(config.DATABASE_SSL_MODE ? { mode: config.DATABASE_SSL_MODE } : {}),
    ...(config.DATABASE_CA_FILE ? { caFile: config.DATABASE_CA_FILE } : {}),
  };
}

/**
 * Retries `attempt` while a dependency starts; an error `permanent` describes (a certificate that
 * will not verify) ends start-up at once with that description instead.
 */
async function withStartupRetries<T>(
  what: string,
  logger: Logger,
  attempt: () => Promise<T>,
  permanent: (error: unknown) => string | undefined = () => undefined,
): Promise<T> {
  const deadline = Date.now() + STARTUP_RETRY_MS;
  for (let delay = 250; ; delay = Math.min(delay * 2, 4000)) {
    try {
      return await attempt();
    } catch (error) {
      const reason = permanent(error);
      if (reason) throw new Error(reason);
      if (Date.now() + delay > deadline) {
        throw new Error(`${what} unavailable after ${STARTUP_RETRY_MS / 1000}s: ${(error as Error).message}`);
      }
      logger.warn({ dependency: what, retryInMs: delay }, 'dependency not reachable yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

@Controller('health')
@Public('probes of the orchestrator; the answer holds no data')
class HealthController {
  constructor(private readonly readiness: ReadinessRegistry) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Everything the service does is up: its HTTP answers' dependencies and its event consumers. */
  @Get('ready')
  ready(@Res() reply: FastifyReply): Promise<void> {
    return this.answer(reply, 'all');
  }

  /**
   * What the orchestrator's readiness probe asks: the service can answer HTTP requests (its event
   * consumers may still be joining their groups, which after a crash waits out the dead member's
   * Kafka session).
   */
  @Get('serving')
  serving(@Res() reply: FastifyReply): Promise<void> {
    return this.answer(reply, 'traffic');
  }

  private async answer(reply: FastifyReply, scope: 'all' | 'traffic'): Promise<void> {
    const report = await this.readiness.report(scope);
    await reply
      .status(report.ready ? 200 : 503)
      .send({ status: report.ready ? 'ready' : 'not-ready', checks: report.checks });
  }
}

@Controller('metrics')
@Public('scraped by Prometheus inside the cluster; counters only, no PHI')
class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Orders start-up and shutdown across the shared resources. */
@Injectable()
class CoreLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly messaging: MessagingService,
    private readonly dataSource: DataSource,
    private readonly readiness: ReadinessRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await withStartupRetries('kafka', this.logger, () => this.messaging.start());
  }

  /** Stop taking work: report not-ready, let consumers finish their in-flight message and commit. */
  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.logger.info({ signal }, 'shutting down: draining');
    this.readiness.startDraining();
    await this.messaging.stopConsumers();
  }

  /** HTTP is closed by now (in-flight requests answered): publish what is left, close connections. */
  async onApplicationShutdown(): Promise<void> {
    await this.messaging.stop();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    this.logger.info('shutdown complete');
  }
}

@Global()
@Module({})
export class CoreModule {
  static forRoot(options: CoreModuleOptions): DynamicModule {
    const { logger } = options;
    return {
      module: CoreModule,
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: LOGGER, useValue: logger },
        { provide: SERVICE_CONFIG, useValue: options.config },
        { provide: METRICS_REGISTRY, useValue: options.metrics },
        ReadinessRegistry,
        {
          provide: DataSource,
          inject: [ReadinessRegistry],
          useFactory: async (readiness: ReadinessRegistry) => {
            const dataSource = createServiceDataSource({
              url: options.config.DATABASE_URL,
              schema: options.database.schema,
              applicationName: options.serviceName,
              entities: options.database.entities,
              migrations: options.database.migrations,
              poolSize: options.config.DATABASE_POOL_SIZE,
              tls: databaseTls(options.config),
            });
            const ran = await migrateAndGrant(options, logger);
            await withStartupRetries(
              'postgres',
              logger,
              () => dataSource.initialize(),
              describeDatabaseTlsError,
            );
            if (!options.config.DATABASE_MIGRATION_URL) ran.push(...(await migrateSchema(dataSource)));
            if (ran.length > 0) logger.info({ migrations: ran }, 'migrations applied');
            readiness.register('postgres', () => pingDatabase(dataSource));
            return dataSource;
          },
        },
        {
          provide: MessagingService,
          inject: [DataSource, ReadinessRegistry],
          useFactory: (dataSource: DataSource, readiness: ReadinessRegistry) => {
            const messaging = new MessagingService(
              {
                serviceName: options.serviceName,
                schema: options.database.schema,
                brokers: options.config.KAFKA_BROKERS,
                clientId: options.config.KAFKA_CLIENT_ID ?? options.serviceName,
                security: {
                  saslMechanism: options.config.KAFKA_SASL_MECHANISM,
                  saslUsername: options.config.KAFKA_SASL_USERNAME,
                  saslPasswordFile: options.config.KAFKA_SASL_PASSWORD_FILE,
                  tls: options.config.KAFKA_TLS,
                  tlsCaFile: options.config.KAFKA_TLS_CA_FILE,
                },
                topics: options.messaging.topics,
                topicReplication: {
                  replicationFactor: options.config.KAFKA_TOPIC_REPLICATION_FACTOR ?? 1,
                  ...(options.config.KAFKA_TOPIC_MIN_INSYNC_REPLICAS
                    ? { minInsyncReplicas: options.config.KAFKA_TOPIC_MIN_INSYNC_REPLICAS }
                    : {}),
                },
                ...(options.config.KAFKA_GROUP_PREFIX
                  ? {
                      groupPrefix: options.config.KAFKA_GROUP_PREFIX,
                      ...(options.config.KAFKA_GROUP_START_AT
                        ? { newGroupsStartAt: options.config.KAFKA_GROUP_START_AT }
                        : {}),
                    }
                  : {}),
                config: options.config,
              },
              dataSource,
              logger,
              options.metrics,
            );
            readiness.register('kafka', () => messaging.isReady());
            return messaging;
          },
        },
        {
          provide: VAULT_CLIENT,
          inject: [ReadinessRegistry],
          useFactory: async (readiness: ReadinessRegistry): Promise<VaultClient | null> => {
            const settings = options.vault;
            if (!settings) return null;
            const client = await withStartupRetries('vault', logger, () =>
              createVaultClient(settings, logger),
            );
            vaultTokenMetrics(options.metrics, () => vaultTokenLease(client));
            if (settings.inReadiness !== false) readiness.register('vault', () => vaultIsReady(client));
            return client;
          },
        },
        CoreLifecycle,
      ],
      exports: [
        LOGGER,
        SERVICE_CONFIG,
        METRICS_REGISTRY,
        ReadinessRegistry,
        DataSource,
        MessagingService,
        VAULT_CLIENT,
      ],
    };
  }
}
