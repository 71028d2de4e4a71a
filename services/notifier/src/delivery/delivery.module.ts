import { Topics } from '@cloud-connect/contracts';
import { exponentialBackoff } from '@cloud-connect/kafka';
import type { Logger } from '@cloud-connect/observability';
import { LOGGER, MessagingService, SiteReplica, SiteReplicaModule } from '@cloud-connect/service-kit';
import { type DynamicModule, Inject, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import type { Transporter } from 'nodemailer';
import { DataSource } from 'typeorm';
import type { NotifierConfig } from '../config';
import { MAIL_TRANSPORT } from '../mail/mail.module';
import { HttpSmsProvider, UnconfiguredSmsProvider } from '../sms/sms-provider';
import { DeliverNotification, isPermanentDeliveryError } from './deliver-notification';

const NOTIFIER_CONFIG = Symbol('NOTIFIER_CONFIG');

@Injectable()
class DeliveryConsumer implements OnModuleInit {
  constructor(
    private readonly messaging: MessagingService,
    private readonly deliver: DeliverNotification,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
  ) {}

  onModuleInit(): void {
    this.messaging.registerConsumer({
      name: 'delivery',
      topics: [Topics.notificationRequested],
      handler: (envelope, { tx, attempt }) => this.deliver.handle(envelope, tx, attempt),
      retry: retryPolicy(this.config),
      isPermanent: (error) =>
        isPermanentDeliveryError(error) || (error as { name?: string }).name === 'ZodError',
    });
  }
}

function retryPolicy(config: NotifierConfig) {
  return exponentialBackoff({
    maxAttempts: config.NOTIFY_MAX_ATTEMPTS,
    baseMs: config.NOTIFY_RETRY_BASE_MS,
    maxMs: config.NOTIFY_RETRY_MAX_MS,
  });
}

/** Delivery of `notification.requested`: e-mail over SMTP, SMS over the HTTP SMS API. */
@Module({})
export class DeliveryModule {
  static register(config: NotifierConfig): DynamicModule {
    return {
      module: DeliveryModule,
      imports: [SiteReplicaModule],
      providers: [
        { provide: NOTIFIER_CONFIG, useValue: config },
        {
          provide: DeliverNotification,
          inject: [DataSource, MAIL_TRANSPORT, SiteReplica, LOGGER],
          useFactory: (ds: DataSource, mail: Transporter, sites: SiteReplica, logger: Logger) =>
            new DeliverNotification(
              ds,
              mail,
              config.SMS_API_URL
                ? new HttpSmsProvider(config.SMS_API_URL, config.SMS_API_KEY ?? '')
                : new UnconfiguredSmsProvider(),
              sites,
              { from: config.SMTP_FROM, retry: retryPolicy(config) },
              logger,
            ),
        },
        DeliveryConsumer,
      ],
    };
  }
}
