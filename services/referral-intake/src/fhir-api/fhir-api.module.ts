import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Logger } from '@cloud-connect/observability';
import { LOGGER, SERVICE_CONFIG } from '@cloud-connect/service-kit';
import type { FastifyInstance } from 'fastify';
import { DataSource } from 'typeorm';
import { intakeSecrets, type IntakeConfig } from '../config';
import { PHI_CIPHER, type BatchPhiCipher } from '../crypto/phi-cipher';
import { AccessTokens } from '../oauth/access-tokens';
import type { OAuthConfig } from '../oauth/oauth-config';
import { OAUTH_CONFIG, OAuthModule } from '../oauth/oauth.module';
import { registerFhirApiRoutes } from './fhir-api.routes';
import { ReadAppointments } from './read-appointments';
import { ReadReferrals } from './read-referrals';
import { SyncedAppointmentsConsumer } from './synced-appointments.consumer';

class FhirApiHttp implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly reads: ReadReferrals,
    private readonly appointments: ReadAppointments,
    private readonly tokens: AccessTokens,
    private readonly config: OAuthConfig,
    private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    registerFhirApiRoutes(this.adapterHost.httpAdapter.getInstance<FastifyInstance>(), {
      reads: this.reads,
      appointments: this.appointments,
      tokens: this.tokens,
      publicBaseUrl: this.config.OAUTH_PUBLIC_BASE_URL,
      logger: this.logger,
    });
  }
}

/** What both read use cases are made from, in the order of READ_INJECT. */
const READ_INJECT = [DataSource, SERVICE_CONFIG, PHI_CIPHER, OAUTH_CONFIG];
type ReadArgs = [DataSource, IntakeConfig, BatchPhiCipher, OAuthConfig];

function readDeps(dataSource: DataSource, config: IntakeConfig, cipher: BatchPhiCipher, oauth: OAuthConfig) {
  return { dataSource, schema: config.DATABASE_SCHEMA, cipher, snapshotLagMs: oauth.FHIR_SNAPSHOT_LAG_MS };
}

/**
 * The FHIR pull API of integrators: ServiceRequest search/read and the original message bundle;
 * Appointment search/read and Patient read from the site's EMR syncs.
 */
@Module({
  imports: [OAuthModule],
  controllers: [SyncedAppointmentsConsumer],
  providers: [
    {
      provide: ReadReferrals,
      inject: READ_INJECT,
      useFactory: (...args: ReadArgs) => new ReadReferrals(readDeps(...args)),
    },
    {
      provide: ReadAppointments,
      inject: READ_INJECT,
      useFactory: (...args: ReadArgs) =>
        new ReadAppointments({ ...readDeps(...args), hashKey: intakeSecrets(args[1]).keyPepper }),
    },
    {
      provide: FhirApiHttp,
      inject: [HttpAdapterHost, ReadReferrals, ReadAppointments, AccessTokens, OAUTH_CONFIG, LOGGER],
      useFactory: (
        host: HttpAdapterHost,
        reads: ReadReferrals,
        appointments: ReadAppointments,
        tokens: AccessTokens,
        oauth: OAuthConfig,
        logger: Logger,
      ) => new FhirApiHttp(host, reads, appointments, tokens, oauth, logger),
    },
  ],
})
export class FhirApiModule {}
