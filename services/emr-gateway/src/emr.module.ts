import { Module } from '@nestjs/common';
import { ServiceTokenIssuer } from '@cloud-connect/auth';
import { Events } from '@cloud-connect/contracts';
import { consumerGroup } from '@cloud-connect/kafka';
import type { Logger } from '@cloud-connect/observability';
import { dataKeyPolicyOf, VaultPhiCipher } from '@cloud-connect/phi-client';
import {
  EgressClient,
  eventConsumer,
  LOGGER,
  MessagingService,
  METRICS_REGISTRY,
  runWhileUp,
  SERVICE_CONFIG,
  SiteReplica,
  SiteReplicaModule,
  VAULT_CLIENT,
  type VaultClient,
} from '@cloud-connect/service-kit';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { EmrAdminController } from './admin/emr-admin.controller';
import { OpenApiController } from './admin/openapi';
import { ChartIntake } from './chart/chart-intake';
import { ReferralSource } from './chart/referral-source';
import { CommandAdmin } from './commands/command-admin';
import { CommandFailures } from './commands/command-failures';
import { EmrCommandQueue, registerQueueMetrics } from './commands/command-queue';
import { CommandsRepository } from './commands/commands.repository';
import { VaultCommandCipher } from './commands/phi-cipher';
import { SERVICE_NAME, type EmrGatewayConfig } from './config';
import { ConnectionsRepository } from './connections/connections.repository';
import { EmrCredentialStore } from './connections/credential-store';
import { EmrAdapters } from './connections/emr-adapters';
import { EmrConnections } from './connections/emr-connections';
import { EmrSettingsService } from './settings/emr-settings.service';
import { EmrStatus } from './status/emr-status';
import { EmrSync } from './sync/emr-sync';
import { RequestSync } from './sync/request-sync';

const chartReferrals = consumerGroup('chart-referrals', { concurrency: 1 });

/** The gateway's consumers: EMR commands, chart intake and sync requests (thin; the use cases decide). */
const EmrConsumers = eventConsumer({ queue: EmrCommandQueue, sync: EmrSync }, (on) => [
  // One partition at a time keeps intake order = topic order per site (and so per patient).
  on(Events.emrCommand, consumerGroup('emr-commands', { concurrency: 1 }), ({ queue }, e, tx) =>
    queue.intake(e, tx),
  ),
  // One partition at a time: rows follow topic order, so per-patient order is arrival order.
  on(Events.referralReceived, chartReferrals, ({ queue }, e, tx) => queue.intakeChart(e, tx)),
  on(Events.formCompleted, chartReferrals, ({ queue }, e, tx) => queue.intakeChart(e, tx)),
  on(Events.syncRequested, consumerGroup('emr-sync'), ({ sync }, e, tx) => sync.onRequested(e, tx)),
]);

@Module({
  imports: [SiteReplicaModule],
  controllers: [EmrAdminController, OpenApiController, EmrConsumers],
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
          // Reconnecting a deauthorized site wakes the commands it held.
          (tx, site) => new CommandsRepository(config.DATABASE_SCHEMA).wakeSite(tx, site),
        ),
    },
    {
      provide: EmrSettingsService,
      inject: [DataSource, SERVICE_CONFIG, MessagingService],
      useFactory: (dataSource: DataSource, config: EmrGatewayConfig, messaging: MessagingService) =>
        new EmrSettingsService(
          dataSource,
          config.DATABASE_SCHEMA,
          messaging,
          new ConnectionsRepository(config.DATABASE_SCHEMA),
        ),
    },
    {
      provide: EmrStatus,
      inject: [DataSource, SERVICE_CONFIG, EmrConnections],
      useFactory: (dataSource: DataSource, config: EmrGatewayConfig, connections: EmrConnections) =>
        new EmrStatus(dataSource, config.DATABASE_SCHEMA, connections),
    },
    {
      provide: RequestSync,
      inject: [MessagingService],
      useFactory: (messaging: MessagingService) => new RequestSync(messaging),
    },
    {
      provide: CommandAdmin,
      inject: [DataSource, SERVICE_CONFIG, MessagingService, EmrCommandQueue],
      useFactory: (
        dataSource: DataSource,
        config: EmrGatewayConfig,
        messaging: MessagingService,
        queue: EmrCommandQueue,
      ) => new CommandAdmin(dataSource, config.DATABASE_SCHEMA, messaging, () => queue.wake()),
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
        const chart = new ChartIntake({
          messaging,
          settings,
          sites,
          source: new ReferralSource(
            config.REFERRAL_INTAKE_URL,
            tokens,
            envelopes,
            config.EMR_HTTP_TIMEOUT_MS,
          ),
          cipher,
          options: {
            schema: config.DATABASE_SCHEMA,
            patientKeySecret: `patient-key/${config.SERVICE_AUTH_SECRET}`,
          },
        });
        const failures = new CommandFailures(
          messaging,
          connections,
          sites,
          {
            schema: config.DATABASE_SCHEMA,
            retryScheduleMs: config.EMR_RETRY_SCHEDULE_MS,
            horizonMs: config.EMR_COMMAND_HORIZON_MS,
            reminderMs: config.EMR_ALERT_REMINDER_MS,
          },
          logger,
        );
        registerQueueMetrics(metrics, dataSource, config.DATABASE_SCHEMA);
        return new EmrCommandQueue(
          dataSource,
          messaging,
          adapters,
          settings,
          cipher,
          failures,
          {
            schema: config.DATABASE_SCHEMA,
            sittingWaitMs: config.EMR_SITTING_WAIT_MS,
            writeInFlightMs: config.EMR_HTTP_TIMEOUT_MS + config.EMR_WRITE_SETTLE_MS,
            intervalMs: config.EMR_DISPATCH_INTERVAL_MS,
            concurrency: config.EMR_DISPATCH_CONCURRENCY,
          },
          logger,
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
    // The queue's dispatcher runs while the app is up; it stops first on shutdown.
    runWhileUp(EmrCommandQueue),
  ],
})
export class EmrModule {}
