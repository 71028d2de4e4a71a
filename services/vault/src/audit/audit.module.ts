import { Topics } from '@cloud-connect/contracts';
import type { Logger } from '@cloud-connect/observability';
import {
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import {
  LOGGER,
  MessagingService,
  METRICS_REGISTRY,
  SERVICE_CONFIG,
  VAULT_CLIENT,
  type VaultClient,
} from '@cloud-connect/service-kit';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import type { VaultConfig } from '../config';
import { AuditAnchorStore, AuditKeyMissingError } from './audit-anchor-store';
import { AuditAnchorer } from './audit-anchorer';
import { AuditController } from './audit.controller';
import { AuditTrail } from './audit-trail';

/** Consumes `audit.recorded` from every service into the per-site keyed chains and anchors their heads. */
@Module({
  controllers: [AuditController],
  providers: [
    {
      provide: AuditAnchorStore,
      inject: [VAULT_CLIENT, SERVICE_CONFIG],
      useFactory: (vault: VaultClient | null, config: VaultConfig) => {
        if (!vault) throw new Error('the audit trail needs the Vault client');
        return new AuditAnchorStore(vault, config.DATABASE_SCHEMA);
      },
    },
    {
      provide: AuditTrail,
      inject: [DataSource, AuditAnchorStore],
      useFactory: (ds: DataSource, store: AuditAnchorStore) => new AuditTrail(ds, store),
    },
    {
      provide: AuditAnchorer,
      inject: [DataSource, AuditAnchorStore, LOGGER, METRICS_REGISTRY, SERVICE_CONFIG],
      useFactory: (
        ds: DataSource,
        store: AuditAnchorStore,
        logger: Logger,
        metrics: Registry,
        config: VaultConfig,
      ) => new AuditAnchorer(ds, store, logger, metrics, config.AUDIT_ANCHOR_INTERVAL_SECONDS),
    },
  ],
  exports: [AuditTrail, AuditAnchorer],
})
export class AuditModule implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly messaging: MessagingService,
    private readonly trail: AuditTrail,
    private readonly store: AuditAnchorStore,
    private readonly anchorer: AuditAnchorer,
  ) {}

  onModuleInit(): void {
    this.messaging.registerConsumer({
      name: 'audit-trail',
      topics: [Topics.auditRecorded],
      handler: (envelope, { tx }) => this.trail.record(envelope, tx),
      isPermanent: (error) => (error as { name?: string }).name === 'ZodError',
    });
  }

  /** Refuses to start without the audit key (an installation step); Vault merely down is retried later. */
  async onApplicationBootstrap(): Promise<void> {
    await this.store.hmacKey().catch((error: unknown) => {
      if (error instanceof AuditKeyMissingError) throw error;
    });
    this.anchorer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.anchorer.stop();
  }
}
