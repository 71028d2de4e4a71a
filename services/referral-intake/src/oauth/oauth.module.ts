import { Module, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { PostgresAttemptThrottle } from '@cloud-connect/db';
import type { Logger } from '@cloud-connect/observability';
import { EgressClient, LOGGER, MessagingService, SERVICE_CONFIG } from '@cloud-connect/service-kit';
import type { FastifyInstance } from 'fastify';
import { DataSource } from 'typeorm';
import type { IntakeConfig } from '../config';
import { SERVICE_KEYS, type ServiceKeys } from '../crypto/service-keys';
import { AccessTokens } from './access-tokens';
import { IssueToken } from './issue-token';
import {
  CreateOAuthClient,
  ListOAuthClients,
  RevokeOAuthClient,
  RotateOAuthClientSecret,
  type OAuthClientDeps,
} from './oauth-client-use-cases';
import { OAuthClientsController } from './oauth-clients.controller';
import { OAuthClientsRepository } from './oauth-clients.repository';
import { loadOAuthConfig, type OAuthConfig } from './oauth-config';
import { registerOAuthRoutes } from './oauth.routes';

export const OAUTH_CONFIG = Symbol('OAUTH_CONFIG');

class OAuthHttp implements OnModuleInit, OnModuleDestroy {
  private purge: NodeJS.Timeout | undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly issue: IssueToken,
    private readonly tokens: AccessTokens,
    private readonly config: OAuthConfig,
    private readonly logger: Logger,
    private readonly dataSource: DataSource,
    private readonly schema: string,
  ) {}

  onModuleInit(): void {
    registerOAuthRoutes(this.adapterHost.httpAdapter.getInstance<FastifyInstance>(), {
      issue: this.issue,
      tokens: this.tokens,
      publicBaseUrl: this.config.OAUTH_PUBLIC_BASE_URL,
      logger: this.logger,
    });
    const repo = new OAuthClientsRepository(this.schema);
    this.purge = setInterval(() => {
      repo.purgeExpiredAssertions(this.dataSource.manager, null).catch(() => undefined);
    }, 60000);
    this.purge.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purge);
  }
}

const useCase = <T>(Type: new (deps: OAuthClientDeps) => T) => ({
  provide: Type,
  inject: [DataSource, MessagingService, SERVICE_CONFIG, OAUTH_CONFIG],
  useFactory: (
    dataSource: DataSource,
    messaging: MessagingService,
    config: IntakeConfig,
    oauth: OAuthConfig,
  ) =>
    new Type({
      dataSource,
      schema: config.DATABASE_SCHEMA,
      outbox: messaging.outbox,
      registry: messaging.registry,
      rotationOverlapSeconds: oauth.OAUTH_ROTATION_OVERLAP_SECONDS,
      egress: { allowLoopback: config.EGRESS_ALLOW_LOOPBACK },
      afterCommit: () => messaging.relay.wake(),
    }),
});

/** OAuth clients of integrators, the token endpoint, discovery and the access-token keys. */
@Module({
  controllers: [OAuthClientsController],
  providers: [
    { provide: OAUTH_CONFIG, useFactory: () => loadOAuthConfig() },
    useCase(CreateOAuthClient),
    useCase(ListOAuthClients),
    useCase(RevokeOAuthClient),
    useCase(RotateOAuthClientSecret),
    {
      provide: AccessTokens,
      inject: [DataSource, SERVICE_CONFIG, SERVICE_KEYS, OAUTH_CONFIG],
      useFactory: (dataSource: DataSource, config: IntakeConfig, keys: ServiceKeys, oauth: OAuthConfig) =>
        new AccessTokens(
          dataSource.manager,
          config.DATABASE_SCHEMA,
          keys,
          oauth.OAUTH_SIGNING_KEY_ROTATION_DAYS,
        ).load(),
    },
    {
      provide: IssueToken,
      inject: [DataSource, SERVICE_CONFIG, AccessTokens, OAUTH_CONFIG],
      useFactory: (dataSource: DataSource, config: IntakeConfig, tokens: AccessTokens, oauth: OAuthConfig) =>
        new IssueToken({
          db: dataSource.manager,
          schema: config.DATABASE_SCHEMA,
          tokens,
          throttle: new PostgresAttemptThrottle(
            dataSource,
            config.DATABASE_SCHEMA,
            oauth.OAUTH_THROTTLE_WINDOW_SECONDS,
          ),
          limits: {
            client: oauth.OAUTH_THROTTLE_CLIENT_MAX_FAILURES,
            address: oauth.OAUTH_THROTTLE_ADDRESS_MAX_FAILURES,
          },
          accessTokenTtlSeconds: oauth.OAUTH_ACCESS_TOKEN_TTL_SECONDS,
          egress: new EgressClient({ allowLoopback: config.EGRESS_ALLOW_LOOPBACK }),
        }),
    },
    {
      provide: OAuthHttp,
      inject: [HttpAdapterHost, IssueToken, AccessTokens, OAUTH_CONFIG, LOGGER, DataSource, SERVICE_CONFIG],
      useFactory: (
        host: HttpAdapterHost,
        issue: IssueToken,
        tokens: AccessTokens,
        oauth: OAuthConfig,
        logger: Logger,
        dataSource: DataSource,
        config: IntakeConfig,
      ) => new OAuthHttp(host, issue, tokens, oauth, logger, dataSource, config.DATABASE_SCHEMA),
    },
  ],
  exports: [AccessTokens, OAUTH_CONFIG],
})
export class OAuthModule {}
