import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Logger } from '@cloud-connect/observability';
import { LOGGER, SERVICE_CONFIG } from '@cloud-connect/service-kit';
import type { FastifyInstance } from 'fastify';
import { DataSource } from 'typeorm';
import type { IntakeConfig } from '../config';
import { PHI_CIPHER, type BatchPhiCipher } from '../crypto/phi-cipher';
import { AccessTokens } from '../oauth/access-tokens';
import type { OAuthConfig } from '../oauth/oauth-config';
import { OAUTH_CONFIG, OAuthModule } from '../oauth/oauth.module';
import { registerFhirApiRoutes } from './fhir-api.routes';
import { ReadReferrals } from './read-referrals';

class FhirApiHttp implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly reads: ReadReferrals,
    private readonly tokens: AccessTokens,
    private readonly config: OAuthConfig,
    private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    registerFhirApiRoutes(this.adapterHost.httpAdapter.getInstance<FastifyInstance>(), {
      reads: this.reads,
      tokens: this.tokens,
      publicBaseUrl: this.config.OAUTH_PUBLIC_BASE_URL,
      logger: this.logger,
    });
  }
}

/** The FHIR pull API of integrators: ServiceRequest search/read and the original message bundle. */
@Module({
  imports: [OAuthModule],
  providers: [
    {
      provide: ReadReferrals,
      inject: [DataSource, SERVICE_CONFIG, PHI_CIPHER, OAUTH_CONFIG],
      useFactory: (
        dataSource: DataSource,
        config: IntakeConfig,
        cipher: BatchPhiCipher,
        oauth: OAuthConfig,
      ) =>
        new ReadReferrals({
          dataSource,
          schema: config.DATABASE_SCHEMA,
          cipher,
          snapshotLagMs: oauth.FHIR_SNAPSHOT_LAG_MS,
        }),
    },
    {
      provide: FhirApiHttp,
      inject: [HttpAdapterHost, ReadReferrals, AccessTokens, OAUTH_CONFIG, LOGGER],
      useFactory: (
        host: HttpAdapterHost,
        reads: ReadReferrals,
        tokens: AccessTokens,
        oauth: OAuthConfig,
        logger: Logger,
      ) => new FhirApiHttp(host, reads, tokens, oauth, logger),
    },
  ],
})
export class FhirApiModule {}
