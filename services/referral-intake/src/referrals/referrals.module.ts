import { GroupCommit, PostgresAttemptThrottle } from '@cloud-connect/db';
import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Logger } from '@cloud-connect/observability';
import { LOGGER, MessagingService, SERVICE_CONFIG } from '@cloud-connect/service-kit';
import type { FastifyInstance } from 'fastify';
import { DataSource } from 'typeorm';
import { intakeSecrets, type IntakeConfig } from '../config';
import { PHI_CIPHER, type PhiCipher } from '../crypto/phi-cipher';
import { loadFhirDefinitions } from '../fhir-messages/fhir-structure';
import { AccessTokens } from '../oauth/access-tokens';
import { OAuthModule } from '../oauth/oauth.module';
import { ApplyStatusChange } from '../status-updates/apply-status-change';
import { StatusUpdatesModule } from '../status-updates/status-updates.module';
import { registerInboundRoutes } from './inbound.routes';
import { RateLimiter } from './rate-limiter';
import { ReceiveMessage } from './receive-message';
import { KEY_THROTTLE_PREFIX } from '../integrations/inbound-key';

class InboundHttp implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly receive: ReceiveMessage,
    @Inject(SERVICE_CONFIG) private readonly config: IntakeConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    loadFhirDefinitions();
    registerInboundRoutes(this.adapterHost.httpAdapter.getInstance<FastifyInstance>(), {
      receive: this.receive,
      maxBodyBytes: this.config.INTAKE_MAX_BODY_BYTES,
      logger: this.logger,
    });
  }
}

/** Inbound FHIR messages (new referrals and status back) through one ReceiveMessage use case. */
@Module({
  imports: [StatusUpdatesModule, OAuthModule],
  providers: [
    {
      provide: ReceiveMessage,
      inject: [DataSource, MessagingService, PHI_CIPHER, SERVICE_CONFIG, ApplyStatusChange, AccessTokens],
      useFactory: (
        dataSource: DataSource,
        messaging: MessagingService,
        cipher: PhiCipher,
        config: IntakeConfig,
        statusChanges: ApplyStatusChange,
        tokens: AccessTokens,
      ) =>
        new ReceiveMessage({
          dataSource,
          schema: config.DATABASE_SCHEMA,
          outbox: messaging.outbox,
          registry: messaging.registry,
          keyPepper: intakeSecrets(config).keyPepper,
          tokens,
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
          lookupCache: {
            ttlMs: config.INTAKE_LOOKUP_CACHE_TTL_MS,
            maxEntries: config.INTAKE_LOOKUP_CACHE_MAX_ENTRIES,
          },
          keyThrottle: {
            throttle: new PostgresAttemptThrottle(
              dataSource,
              config.DATABASE_SCHEMA,
              config.INTAKE_KEY_THROTTLE_WINDOW_SECONDS,
              KEY_THROTTLE_PREFIX,
            ),
            maxPerAddress: config.INTAKE_KEY_THROTTLE_ADDRESS_MAX_FAILURES,
            maxPerPrefix: config.INTAKE_KEY_THROTTLE_PREFIX_MAX_FAILURES,
          },
        }),
    },
    {
      provide: InboundHttp,
      inject: [HttpAdapterHost, ReceiveMessage, SERVICE_CONFIG, LOGGER],
      useFactory: (host: HttpAdapterHost, receive: ReceiveMessage, config: IntakeConfig, logger: Logger) =>
        new InboundHttp(host, receive, config, logger),
    },
  ],
})
export class ReferralsModule {}
