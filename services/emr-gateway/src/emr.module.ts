import {
  Module,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { ServiceTokenIssuer } from '@cloud-connect/auth';
import type { Logger } from '@cloud-connect/observability';
import { dataKeyPolicyOf, VaultPhiCipher } from '@cloud-connect/phi-client';
import {
  EgressClient,
  LOGGER,
  MessagingService,
  METRICS_REGISTRY,
  SERVICE_CONFIG,
  SiteReplica,
  SiteReplicaModule,
  VAULT_CLIENT,
  type VaultClient,
} from '@cloud-connect/service-kit';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { ChartIntake } from './chart/chart-intake';
import { ReferralSource } from './chart/referral-source';
import { EmrCommandQueue } from './commands/command-queue';
import { VaultCommandCipher } from './commands/phi-cipher';
import { SERVICE_NAME, type EmrGatewayConfig } from './config';
import { EmrCredentialStore } from './connections/credential-store';
import { EmrAdminController } from './connections/emr-admin.controller';
import { EmrAdapters } from './connections/emr-adapters';
import { EmrConnections } from './connections/emr-connections';
import { OpenApiController } from './connections/openapi';
import { EmrSettingsService } from './settings/emr-settings.service';
import { EmrSync } from './sync/emr-sync';

/** Starts the queue's consumer and dispatcher with the app, and stops the dispatcher first on shutdown. */
class EmrLifecycle implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly queue: EmrCommandQueue,
    private readonly sync: EmrSync,
  ) {}

  onModuleInit(): void {
    this.queue.registerConsumer();
    this.sync.registerConsumer();
  }

  onApplicationBootstrap(): void {
    this.queue.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.queue.stop();
  }
}

@Module({
  imports: [SiteReplicaModule],
  controllers: [EmrAdminController, OpenApiController],
  providers: [
    {
      provide: EmrAdapters,
      inject: [VAULT_CLIENT, SERVICE_CONFIG],
      useFactory: (vault: VaultClient, config: EmrGatewayConfig) =>
        new EmrAdapters(
          new EmrCredentialStore(vault),
          { telusApiUrl: config.EMR_TELUS_API_URL, accuroApiUrl: config.EMR_ACCURO_API_URL },
          {
            timeoutMs: config.EMR_HTTP_TIMEOUT_MS,
            egress: new EgressClient({ allowLoopback: config.EGRESS_ALLOW_LOOPBACK }),
            maxResponseBytes: config.EMR_MAX_RESPONSE_BYTES,
          },
        ),
    },
    {
      provide: EmrConnections,
      inject: [DataSource, SERVICE_CONFIG, MessagingService, VAULT_CLIENT, EmrAdapters, SiteReplica],
      useFactory: (
        dataSource: DataSource,
        config: EmrGatewayConfig,
        messaging: MessagingService,
        vault: VaultClient,
        adapters: EmrAdapters,
        sites: SiteReplica,
      ) =>
        new EmrConnections(
          dataSource,
          config.DATABASE_SCHEMA,
          messaging,
          new EmrCredentialStore(vault),
          adapters,
          sites,
        ),
    },
    {
      provide: EmrSettingsService,
      inject: [DataSource, SERVICE_CONFIG, MessagingService],
      useFactory: (dataSource: DataSource, config: EmrGatewayConfig, messaging: MessagingService) =>
        new EmrSettingsService(dataSource, config.DATABASE_SCHEMA, messaging),
    },
    {
      provide: EmrCommandQueue,
      inject: [
        DataSource,
        MessagingService,
        EmrAdapters,
        EmrConnections,
        EmrSettingsService,
        SiteReplica,
        SERVICE_CONFIG,
        LOGGER,
        METRICS_REGISTRY,
      ],
      useFactory: (
        dataSource: DataSource,
        messaging: MessagingService,
        adapters: EmrAdapters,
        connections: EmrConnections,
        settings: EmrSettingsService,
        sites: SiteReplica,
        config: EmrGatewayConfig,
        logger: Logger,
        metrics: Registry,
      ) => {
        const tokens = new ServiceTokenIssuer(SERVICE_NAME, config);
        const envelopes = new VaultPhiCipher({
          baseUrl: config.VAULT_SERVICE_URL,
          tokens,
          timeoutMs: config.PHI_TIMEOUT_MS,
          dataKeys: dataKeyPolicyOf(config),
        });
        const cipher = new VaultCommandCipher(envelopes);
        const chart = new ChartIntake(
          messaging,
          settings,
          sites,
          new ReferralSource(config.REFERRAL_INTAKE_URL, tokens, envelopes, config.EMR_HTTP_TIMEOUT_MS),
          cipher,
          { schema: config.DATABASE_SCHEMA, patientKeySecret: `patient-key/${config.SERVICE_AUTH_SECRET}` },
        );
        return new EmrCommandQueue(
          dataSource,
          messaging,
          adapters,
          connections,
          settings,
          sites,
          cipher,
          {
            schema: config.DATABASE_SCHEMA,
            retryScheduleMs: config.EMR_RETRY_SCHEDULE_MS,
            horizonMs: config.EMR_COMMAND_HORIZON_MS,
            reminderMs: config.EMR_ALERT_REMINDER_MS,
            sittingWaitMs: config.EMR_SITTING_WAIT_MS,
            intervalMs: config.EMR_DISPATCH_INTERVAL_MS,
            concurrency: config.EMR_DISPATCH_CONCURRENCY,
          },
          logger,
          metrics,
          chart,
        );
      },
    },
    {
      provide: EmrSync,
      inject: [
        DataSource,
        SERVICE_CONFIG,
        MessagingService,
        EmrAdapters,
        EmrConnections,
        EmrSettingsService,
        SiteReplica,
        LOGGER,
        METRICS_REGISTRY,
      ],
      useFactory: (
        dataSource: DataSource,
        config: EmrGatewayConfig,
        messaging: MessagingService,
        adapters: EmrAdapters,
        connections: EmrConnections,
        settings: EmrSettingsService,
        sites: SiteReplica,
        logger: Logger,
        metrics: Registry,
      ) =>
        new EmrSync(
          dataSource,
          config.DATABASE_SCHEMA,
          messaging,
          adapters,
          connections,
          settings,
          async (site) => (await sites.find(site))?.timezone ?? 'America/Toronto',
          config.EMR_FULL_SYNC_DAYS,
          logger,
          metrics,
          new VaultPhiCipher({
            baseUrl: config.VAULT_SERVICE_URL,
            tokens: new ServiceTokenIssuer(SERVICE_NAME, config),
            timeoutMs: config.PHI_TIMEOUT_MS,
            dataKeys: dataKeyPolicyOf(config),
          }),
        ),
    },
    {
      provide: EmrLifecycle,
      inject: [EmrCommandQueue, EmrSync],
      useFactory: (queue: EmrCommandQueue, sync: EmrSync) => new EmrLifecycle(queue, sync),
    },
  ],
})
export class EmrModule {}
