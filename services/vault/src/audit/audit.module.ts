import { Events } from '@cloud-connect/contracts';
import { consumerGroup } from '@cloud-connect/kafka';
import type { Logger } from '@cloud-connect/observability';
import { Module, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import {
  eventConsumer,
  LOGGER,
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

/** `audit.recorded` from every service into the per-site keyed chains. */
const AuditTrailConsumer = eventConsumer({ trail: AuditTrail }, (on) => [
  on(Events.auditRecorded, consumerGroup('audit-trail'), ({ trail }, e, tx) => trail.record(e, tx)),
]);

/** The audit trail's consumer and the anchoring of its heads in Vault. */
@Module({
  controllers: [AuditController, AuditTrailConsumer],
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
export class AuditModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly store: AuditAnchorStore,
    private readonly anchorer: AuditAnchorer,
  ) {}

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
