import { Module } from '@nestjs/common';
import { MessagingService, SERVICE_CONFIG } from '@cloud-connect/service-kit';
import type { IntakeConfig } from '../config';
import { ApplyStatusChange } from './apply-status-change';

/**
 * Status back from the receivers of referrals: the state a referral (or an appointment booked for
 * it) is in, changed inside the transaction that stores the message (the inbound pipeline in
 * referrals/ calls ApplyStatusChange), with its event through the outbox.
 */
@Module({
  providers: [
    {
      provide: ApplyStatusChange,
      inject: [MessagingService, SERVICE_CONFIG],
      useFactory: (messaging: MessagingService, config: IntakeConfig) =>
        new ApplyStatusChange({
          schema: config.DATABASE_SCHEMA,
          outbox: messaging.outbox,
          registry: messaging.registry,
          lookupCache: {
            ttlMs: config.INTAKE_LOOKUP_CACHE_TTL_MS,
            maxEntries: config.INTAKE_LOOKUP_CACHE_MAX_ENTRIES,
          },
        }),
    },
  ],
  exports: [ApplyStatusChange],
})
export class StatusUpdatesModule {}
