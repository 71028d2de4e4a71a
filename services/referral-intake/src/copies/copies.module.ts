import {
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Topics } from '@cloud-connect/contracts';
import { exponentialBackoff } from '@cloud-connect/kafka';
import { safeError, type Logger } from '@cloud-connect/observability';
import { EgressClient, LOGGER, MessagingService, SERVICE_CONFIG } from '@cloud-connect/service-kit';
import { DataSource } from 'typeorm';
import type { IntakeConfig } from '../config';
import { PHI_CIPHER, type PhiCipher } from '../crypto/phi-cipher';
import { DeliverCopies, ScheduleCopies } from './copy-delivery';

/** Consumes `referral.received` into the copy queue, and runs the delivery loop. */
class CopiesRunner implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private readonly schedule: ScheduleCopies;
  private readonly deliver: DeliverCopies;

  constructor(
    private readonly messaging: MessagingService,
    dataSource: DataSource,
    cipher: PhiCipher,
    private readonly config: IntakeConfig,
    private readonly logger: Logger,
  ) {
    this.schedule = new ScheduleCopies(config.DATABASE_SCHEMA);
    this.deliver = new DeliverCopies({
      dataSource,
      schema: config.DATABASE_SCHEMA,
      cipher,
      retry: exponentialBackoff({
        maxAttempts: config.COPY_MAX_ATTEMPTS,
        baseMs: config.COPY_BACKOFF_BASE_MS,
        maxMs: config.COPY_BACKOFF_MAX_MS,
      }),
      timeoutMs: config.COPY_TIMEOUT_MS,
      logger,
      egress: new EgressClient({ allowLoopback: config.EGRESS_ALLOW_LOOPBACK }),
      maxResponseBytes: config.COPY_MAX_RESPONSE_BYTES,
    });
  }

  onModuleInit(): void {
    this.messaging.registerConsumer({
      name: 'outbound-copies',
      topics: [Topics.referralReceived],
      handler: async (envelope, { tx }) => {
        await this.schedule.execute(envelope, tx);
      },
    });
  }

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let delivered = 0;
      try {
        delivered = await this.deliver.runOnce();
      } catch (error) {
        this.logger.warn({ error: safeError(error) }, 'copy delivery pass failed');
      }
      if (delivered === 0) await new Promise((resolve) => setTimeout(resolve, this.config.COPY_POLL_MS));
    }
  }
}

@Module({
  providers: [
    {
      provide: CopiesRunner,
      inject: [MessagingService, DataSource, PHI_CIPHER, SERVICE_CONFIG, LOGGER],
      useFactory: (
        messaging: MessagingService,
        dataSource: DataSource,
        cipher: PhiCipher,
        config: IntakeConfig,
        logger: Logger,
      ) => new CopiesRunner(messaging, dataSource, cipher, config, logger),
    },
  ],
})
export class CopiesModule {}
