import { Events } from '@cloud-connect/contracts';
import { consumerGroup } from '@cloud-connect/kafka';
import type { Logger } from '@cloud-connect/observability';
import {
  eventConsumer,
  LOGGER,
  MessagingService,
  registeredModule,
  runWhileUp,
  SiteReplica,
  SiteReplicaModule,
} from '@cloud-connect/service-kit';
import { DataSource } from 'typeorm';
import { OpenApiController } from './admin/openapi';
import { OptOutController } from './admin/opt-out.controller';
import { SchedulerAdminController } from './admin/scheduler-admin.controller';
import type { SchedulerConfig } from './config';
import { BookReminders } from './reminders/book-reminders';
import { OptOutTokens } from './reminders/opt-out-token';
import { ReferrerNotices } from './reminders/referrer-notices';
import { ScheduleRunner } from './schedules/schedule-runner';

/** Appointments booked into reminders; referral status changes into the referrer's notices. */
const SchedulerConsumers = eventConsumer({ book: BookReminders, referrers: ReferrerNotices }, (on) => [
  on(Events.appointmentChanged, consumerGroup('reminders'), ({ book }, e, tx) => book.handle(e, tx)),
  on(Events.referralStatusChanged, consumerGroup('referrer-notices'), ({ referrers }, e, tx) =>
    referrers.onStatusChanged(e, tx),
  ),
]);

/** Durable schedules (syncs) and reminders; the admin API and the public opt-out link. */
export const SchedulerModule = registeredModule('SchedulerModule', (config: SchedulerConfig) => ({
  imports: [SiteReplicaModule],
  controllers: [SchedulerAdminController, OptOutController, OpenApiController, SchedulerConsumers],
  providers: [
    { provide: OptOutTokens, useValue: new OptOutTokens(config.SERVICE_AUTH_SECRET) },
    {
      provide: ScheduleRunner,
      inject: [DataSource, MessagingService, OptOutTokens, LOGGER],
      useFactory: (ds: DataSource, messaging: MessagingService, tokens: OptOutTokens, logger: Logger) =>
        new ScheduleRunner({ dataSource: ds, messaging, config, optOut: tokens, logger }),
    },
    {
      provide: ReferrerNotices,
      inject: [SiteReplica, MessagingService, LOGGER],
      useFactory: (sites: SiteReplica, messaging: MessagingService, logger: Logger) =>
        new ReferrerNotices(config.DATABASE_SCHEMA, sites, messaging, logger),
    },
    {
      provide: BookReminders,
      inject: [SiteReplica, ReferrerNotices, LOGGER],
      useFactory: (sites: SiteReplica, referrers: ReferrerNotices, logger: Logger) =>
        new BookReminders(config.DATABASE_SCHEMA, sites, config.REMINDER_MINUTE_MS, logger, referrers),
    },
    runWhileUp(ScheduleRunner),
  ],
}));
