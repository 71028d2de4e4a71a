import { Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Events } from '@cloud-connect/contracts';
import { consumerGroup, exponentialBackoff } from '@cloud-connect/kafka';
import { safeError, type Logger } from '@cloud-connect/observability';
import { EgressClient, eventConsumer, LOGGER, SERVICE_CONFIG } from '@cloud-connect/service-kit';
import { DataSource } from 'typeorm';
import type { IntakeConfig } from '../config';
import { PHI_CIPHER, type PhiCipher } from '../crypto/phi-cipher';
import { DeliverCopies, ScheduleCopies } from './copy-delivery';

/** `referral.received` into the copy queue (in the consumer's transaction). */
const OutboundCopiesConsumer = eventConsumer({ schedule: ScheduleCopies }, (on) => [
  on(Events.referralReceived, consumerGroup('outbound-copies'), ({ schedule }, e, tx) =>
    schedule.execute(e, tx),
  ),
]);

/** Runs the delivery loop of the copy queue. */
class CopiesRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private readonly deliver: DeliverCopies;

  constructor(
    dataSource: DataSource,
    cipher: PhiCipher,
    private readonly config: IntakeConfig,
    private readonly logger: Logger,
  ) {
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
  controllers: [OutboundCopiesConsumer],
  providers: [
    {
      provide: ScheduleCopies,
      inject: [SERVICE_CONFIG],
      useFactory: (config: IntakeConfig) => new ScheduleCopies(config.DATABASE_SCHEMA),
    },
    {
      provide: CopiesRunner,
      inject: [DataSource, PHI_CIPHER, SERVICE_CONFIG, LOGGER],
      useFactory: (dataSource: DataSource, cipher: PhiCipher, config: IntakeConfig, logger: Logger) =>
        new CopiesRunner(dataSource, cipher, config, logger),
    },
  ],
})
export class CopiesModule {}
