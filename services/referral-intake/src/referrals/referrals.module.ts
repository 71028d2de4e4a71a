import { GroupCommit } from '@cloud-connect/db';
import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Logger } from '@cloud-connect/observability';
import { LOGGER, MessagingService, SERVICE_CONFIG } from '@cloud-connect/service-kit';
import type { FastifyInstance } from 'fastify';
import { DataSource } from 'typeorm';
import { intakeSecrets, type IntakeConfig } from '../config';
import { PHI_CIPHER, type PhiCipher } from '../crypto/phi-cipher';
import { loadFhirDefinitions } from './fhir-structure';
import { registerInboundRoutes } from './inbound.routes';
import { RateLimiter } from './rate-limiter';
import { ReceiveReferral } from './receive-referral';
import { ApplyStatusChange } from '../status-updates/apply-status-change';
import { ReceiveStatusUpdate } from '../status-updates/receive-status-update';
import { StatusUpdatesModule } from '../status-updates/status-updates.module';

class InboundHttp implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly receive: ReceiveReferral,
    private readonly statusUpdates: ReceiveStatusUpdate,
    @Inject(SERVICE_CONFIG) private readonly config: IntakeConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    loadFhirDefinitions();
    registerInboundRoutes(this.adapterHost.httpAdapter.getInstance<FastifyInstance>(), {
      receive: this.receive,
      statusUpdates: this.statusUpdates,
      maxBodyBytes: this.config.INTAKE_MAX_BODY_BYTES,
      logger: this.logger,
    });
  }
}

@Module({
  imports: [StatusUpdatesModule],
  providers: [
    {
      provide: ReceiveReferral,
      inject: [DataSource, MessagingService, PHI_CIPHER, SERVICE_CONFIG, ApplyStatusChange],
      useFactory: (
        dataSource: DataSource,
        messaging: MessagingService,
        cipher: PhiCipher,
        config: IntakeConfig,
        statusChanges: ApplyStatusChange,
      ) =>
        new ReceiveReferral({
          dataSource,
          schema: config.DATABASE_SCHEMA,
          outbox: messaging.outbox,
          registry: messaging.registry,
          keyPepper: intakeSecrets(config).keyPepper,
          cipher,
          limiter: new RateLimiter({
            perSecond: config.INTAKE_RATE_LIMIT_PER_SECOND,
            burst: config.INTAKE_RATE_LIMIT_BURST,
          }),
          limits: { maxDepth: config.INTAKE_MAX_JSON_DEPTH, maxArrayLength: config.INTAKE_MAX_ARRAY_LENGTH },
          afterCommit: () => messaging.relay.wake(),
          statusChanges,
          commits: new GroupCommit(dataSource, {
            maxBatch: config.INTAKE_COMMIT_MAX_BATCH,
            windowMs: config.INTAKE_COMMIT_WINDOW_MS,
            maxInFlight: config.INTAKE_COMMIT_IN_FLIGHT,
          }),
        }),
    },
    {
      provide: InboundHttp,
      inject: [HttpAdapterHost, ReceiveReferral, ReceiveStatusUpdate, SERVICE_CONFIG, LOGGER],
      useFactory: (
        host: HttpAdapterHost,
        receive: ReceiveReferral,
        statusUpdates: ReceiveStatusUpdate,
        config: IntakeConfig,
        logger: Logger,
      ) => new InboundHttp(host, receive, statusUpdates, config, logger),
    },
  ],
})
export class ReferralsModule {}
