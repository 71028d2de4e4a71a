import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ReadinessRegistry, registeredModule } from '@cloud-connect/service-kit';
import { readFileSync } from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';
import type { NotifierConfig } from '../config';

export const MAIL_TRANSPORT = Symbol('MAIL_TRANSPORT');

/** The SMTP transport, pooled; readiness checks the server answers EHLO (and auth, if configured). */
@Injectable()
export class MailTransportHealth implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(MAIL_TRANSPORT) private readonly transport: Transporter,
    private readonly readiness: ReadinessRegistry,
  ) {}

  onModuleInit(): void {
    this.readiness.register('smtp', () => this.transport.verify());
  }

  onApplicationShutdown(): void {
    this.transport.close();
  }
}

export const MailModule = registeredModule('MailModule', (config: NotifierConfig) => {
  const transport = nodemailer.createTransport({
    host: config.SMTP_HOST,
    port: config.SMTP_PORT,
    secure: config.SMTP_SECURE,
    requireTLS: config.SMTP_REQUIRE_TLS,
    ...(config.SMTP_CA_FILE ? { tls: { ca: readFileSync(config.SMTP_CA_FILE, 'utf8') } } : {}),
    pool: true,
    connectionTimeout: 3000,
    greetingTimeout: 3000,
    ...(config.SMTP_USER ? { auth: { user: config.SMTP_USER, pass: config.SMTP_PASSWORD ?? '' } } : {}),
  });
  return {
    global: true,
    providers: [{ provide: MAIL_TRANSPORT, useValue: transport }, MailTransportHealth],
    exports: [MAIL_TRANSPORT],
  };
});
