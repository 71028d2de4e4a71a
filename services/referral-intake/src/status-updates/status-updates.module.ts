import { Module } from '@nestjs/common';
import { MessagingService, SERVICE_CONFIG } from '@cloud-connect/service-kit';
import { DataSource } from 'typeorm';
import type { IntakeConfig } from '../config';
import { PHI_CIPHER, type PhiCipher } from '../crypto/phi-cipher';
import { AccessTokens } from '../oauth/access-tokens';
import { OAuthModule } from '../oauth/oauth.module';
import { RateLimiter } from '../referrals/rate-limiter';
import { ApplyStatusChange } from './apply-status-change';
import { ReceiveStatusUpdate } from './receive-status-update';

/**
 * Status back from the receivers of referrals: integrators post `notify-update-status` and
 * `notify-*-appointment` messages with their OAuth access token (the referrals module routes
 * those posts here); integrations posting with an API key get the same state changes.
 */
@Module({
  imports: [OAuthModule],
  providers: [
    {
      provide: ApplyStatusChange,
      inject: [MessagingService, SERVICE_CONFIG],
      useFactory: (messaging: MessagingService, config: IntakeConfig) =>
        new ApplyStatusChange({
          schema: config.DATABASE_SCHEMA,
          outbox: messaging.outbox,
          registry: messaging.registry,
        }),
    },
    {
      provide: ReceiveStatusUpdate,
      inject: [DataSource, MessagingService, SERVICE_CONFIG, AccessTokens, PHI_CIPHER, ApplyStatusChange],
      useFactory: (
        dataSource: DataSource,
        messaging: MessagingService,
        config: IntakeConfig,
        tokens: AccessTokens,
        cipher: PhiCipher,
        statusChanges: ApplyStatusChange,
      ) =>
        new ReceiveStatusUpdate({
          dataSource,
          schema: config.DATABASE_SCHEMA,
          tokens,
          cipher,
          statusChanges,
          limiter: new RateLimiter({
            perSecond: config.INTAKE_RATE_LIMIT_PER_SECOND,
            burst: config.INTAKE_RATE_LIMIT_BURST,
          }),
          limits: { maxDepth: config.INTAKE_MAX_JSON_DEPTH, maxArrayLength: config.INTAKE_MAX_ARRAY_LENGTH },
          afterCommit: () => messaging.relay.wake(),
        }),
    },
  ],
  exports: [ApplyStatusChange, ReceiveStatusUpdate],
})
export class StatusUpdatesModule {}
