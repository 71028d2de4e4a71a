import { Events } from '@cloud-connect/contracts';
import { consumerGroup, exponentialBackoff } from '@cloud-connect/kafka';
import type { Logger } from '@cloud-connect/observability';
import {
  eventConsumer,
  LOGGER,
  registeredModule,
  SiteReplica,
  SiteReplicaModule,
} from '@cloud-connect/service-kit';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import type { Transporter } from 'nodemailer';
import { DataSource } from 'typeorm';
import { ServiceTokenIssuer } from '@cloud-connect/auth';
import { VaultPhiCipher } from '@cloud-connect/phi-client';
import { SERVICE_NAME, type NotifierConfig } from '../config';
import { MAIL_TRANSPORT } from '../mail/mail.module';
import { HttpSmsProvider, UnconfiguredSmsProvider, type SmsProvider } from '../sms/sms-provider';
import { registerSmsWebhooks } from './sms-webhooks';
import { TwilioSmsProvider } from '../sms/twilio-sms-provider';
import { DeliverNotification } from './deliver-notification';

const NOTIFIER_CONFIG = Symbol('NOTIFIER_CONFIG');

function smsProvider(config: NotifierConfig): SmsProvider {
  if (config.SMS_PROVIDER === 'twilio')
    return new TwilioSmsProvider({
      apiUrl: config.TWILIO_API_URL,
      accountSid: config.TWILIO_ACCOUNT_SID ?? '',
      authToken: config.TWILIO_AUTH_TOKEN ?? '',
      from: config.TWILIO_FROM ?? '',
      ...(config.NOTIFIER_PUBLIC_URL ? { webhookBaseUrl: config.NOTIFIER_PUBLIC_URL } : {}),
    });
  return config.SMS_API_URL
    ? new HttpSmsProvider(config.SMS_API_URL, config.SMS_API_KEY ?? '')
    : new UnconfiguredSmsProvider();
}

/** `notification.requested` → e-mail or SMS; undeliverable ones go to the dead-letter topic. */
const DeliveryConsumer = eventConsumer({ deliver: DeliverNotification }, (on) => [
  on(
    Events.notificationRequested,
    consumerGroup('delivery', { retry: retryPolicy }),
    ({ deliver }, e, tx, ctx) => deliver.handle(e, tx, ctx.attempt),
  ),
]);

/** The Twilio status and inbound-message webhooks, when Twilio is the SMS provider. */
@Injectable()
class SmsWebhooks implements OnModuleInit {
  constructor(
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
    private readonly adapterHost: HttpAdapterHost,
    private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    if (this.config.SMS_PROVIDER === 'twilio')
      registerSmsWebhooks(this.adapterHost.httpAdapter.getInstance<FastifyInstance>(), {
        dataSource: this.dataSource,
        authToken: this.config.TWILIO_AUTH_TOKEN ?? '',
        publicBaseUrl: this.config.NOTIFIER_PUBLIC_URL ?? `http://127.0.0.1:${this.config.PORT}`,
        optOutKey: this.config.SERVICE_AUTH_SECRET,
        logger: this.logger,
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
export const DeliveryModule = registeredModule('DeliveryModule', (config: NotifierConfig) => ({
  imports: [SiteReplicaModule],
  controllers: [DeliveryConsumer],
  providers: [
    { provide: NOTIFIER_CONFIG, useValue: config },
    {
      provide: DeliverNotification,
      inject: [DataSource, MAIL_TRANSPORT, SiteReplica, LOGGER],
      useFactory: (ds: DataSource, mail: Transporter, sites: SiteReplica, logger: Logger) =>
        new DeliverNotification(
          ds,
          mail,
          smsProvider(config),
          sites,
          {
            from: config.SMTP_FROM,
            retry: retryPolicy(config),
            optOutKey: config.SERVICE_AUTH_SECRET,
            sealingSecret: config.SERVICE_AUTH_SECRET,
          },
          logger,
          config.VAULT_SERVICE_URL
            ? new VaultPhiCipher({
                baseUrl: config.VAULT_SERVICE_URL,
                tokens: new ServiceTokenIssuer(SERVICE_NAME, config),
                timeoutMs: config.PHI_TIMEOUT_MS,
              })
            : null,
        ),
    },
    SmsWebhooks,
  ],
}));
