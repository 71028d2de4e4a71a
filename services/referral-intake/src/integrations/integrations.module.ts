import { Module } from '@nestjs/common';
import { MessagingService, SERVICE_CONFIG } from '@cloud-connect/service-kit';
import { DataSource } from 'typeorm';
import { intakeSecrets, type IntakeConfig } from '../config';
import { ListDeliveries, ReplayDeliveries } from './delivery-admin';
import { PHI_CIPHER, type PhiCipher } from '../crypto/phi-cipher';
import {
  CreateIntegration,
  ListIntegrations,
  RotateIntegrationKey,
  SetIntegrationEnabled,
  type IntegrationDeps,
} from './integration-use-cases';
import { IntegrationsController } from './integrations.controller';
import { OpenApiController } from './openapi';

const DEPS = Symbol('INTEGRATION_DEPS');

@Module({
  controllers: [IntegrationsController, OpenApiController],
  providers: [
    {
      provide: DEPS,
      inject: [DataSource, MessagingService, PHI_CIPHER, SERVICE_CONFIG],
      useFactory: (
        dataSource: DataSource,
        messaging: MessagingService,
        cipher: PhiCipher,
        config: IntakeConfig,
      ): IntegrationDeps => ({
        dataSource,
        schema: config.DATABASE_SCHEMA,
        outbox: messaging.outbox,
        registry: messaging.registry,
        keyPepper: intakeSecrets(config).keyPepper,
        cipher,
        egress: { allowLoopback: config.EGRESS_ALLOW_LOOPBACK },
        afterCommit: () => messaging.relay.wake(),
      }),
    },
    ...[
      CreateIntegration,
      ListIntegrations,
      SetIntegrationEnabled,
      RotateIntegrationKey,
      ListDeliveries,
      ReplayDeliveries,
    ].map((useCase) => ({
      provide: useCase,
      inject: [DEPS],
      useFactory: (deps: IntegrationDeps) => new useCase(deps),
    })),
  ],
})
export class IntegrationsModule {}
