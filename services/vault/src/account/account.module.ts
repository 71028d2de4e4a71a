import { MessagingService, registeredModule } from '@cloud-connect/service-kit';
import { DataSource } from 'typeorm';
import { AdminSessions } from '../identity/sessions';
import { AccountOutbox, type AccountMailSettings } from './account-mail';
import { AccountRepository } from './account.repository';
import { PasswordController, SiteAccountController } from './account.controller';
import { OpenApiController } from './openapi';
import { PasswordLinks } from './password-links';
import { SiteAccount } from './site-account';

/** The site account (settings, administrators) and password links (invitations, resets). */
export const AccountModule = registeredModule('AccountModule', (settings: AccountMailSettings) => ({
  controllers: [SiteAccountController, PasswordController, OpenApiController],
  providers: [
    {
      provide: AccountOutbox,
      inject: [DataSource, MessagingService],
      useFactory: (ds: DataSource, messaging: MessagingService) =>
        new AccountOutbox(messaging.outbox, messaging.registry, new AccountRepository(ds), settings),
    },
    {
      provide: SiteAccount,
      inject: [DataSource, MessagingService, AccountOutbox],
      useFactory: (ds: DataSource, messaging: MessagingService, mails: AccountOutbox) =>
        new SiteAccount(ds, messaging.outbox, messaging.registry, mails),
    },
    {
      provide: PasswordLinks,
      inject: [DataSource, AccountOutbox, AdminSessions],
      useFactory: (ds: DataSource, mails: AccountOutbox, sessions: AdminSessions) =>
        new PasswordLinks(ds, mails, sessions),
    },
  ],
}));
