import { Events, type referralStatusChangedV1 } from '@cloud-connect/contracts';
import type { Envelope } from '@cloud-connect/kafka';
import type { Logger } from '@cloud-connect/observability';
import type { MessagingService, SiteRecord } from '@cloud-connect/service-kit';
import type { EntityManager } from 'typeorm';
import type { z } from 'zod';
import { reminderId } from './book-reminders';
import { RemindersRepository } from './reminders.repository';

type SealedReferrer = NonNullable<z.infer<typeof referralStatusChangedV1>['referrer']>;

/**
 * Notices to the referrer (the referral's requester, contact sealed by referral-intake): their
 * referral was declined (Task rejected) or its appointment booked. E-mail only (a referrer's
 * phone is usually the office's), in the referrer's language or the site's, with the clinic's
 * name and the appointment's date and time, nothing clinical. Sent when the site's policy has
 * status notices on; the notification id is derived from the status message, so a replay
 * sends nothing twice.
 */
export class ReferrerNotices {
  private readonly reminders: RemindersRepository;

  constructor(
    schema: string,
    private readonly sites: { find(site: string): Promise<SiteRecord | null> },
    private readonly messaging: Pick<MessagingService, 'outbox' | 'registry'>,
    private readonly logger: Logger,
  ) {
    this.reminders = new RemindersRepository(schema);
  }

  /** `referral.status-changed`: a declined referral tells its referrer. */
  async onStatusChanged(envelope: Envelope, tx: EntityManager): Promise<void> {
    if (envelope.type !== Events.referralStatusChanged.type) return;
    const event = Events.referralStatusChanged.schema.parse(envelope.payload);
    if (event.taskStatus !== 'rejected' || !event.referrer) return;
    await this.send(tx, envelope.siteId, event.messageId, 'referral.declined', event.referrer, null);
  }

  /** A referral's appointment newly booked (called by the reminders' consumer). */
  async onBooked(
    tx: EntityManager,
    site: string,
    messageId: string,
    referrer: SealedReferrer | undefined,
    startsAt: Date,
  ): Promise<void> {
    if (referrer) await this.send(tx, site, messageId, 'referral.booked', referrer, startsAt);
  }

  private async send(
    tx: EntityManager,
    site: string,
    messageId: string,
    template: 'referral.declined' | 'referral.booked',
    referrer: SealedReferrer,
    startsAt: Date | null,
  ): Promise<void> {
    if (!referrer.channels.includes('email')) return;
    const record = await this.sites.find(site);
    if (!record) throw new Error(`site ${site} is not known here yet`);
    const { policy } = await this.reminders.policy(tx, site);
    if (!policy.statusNotices) return;
    const notificationId = reminderId([site, messageId, template, 'referrer', 'email']);
    await this.messaging.outbox.enqueue(
      tx,
      this.messaging.registry.create(Events.notificationRequested, site, {
        notificationId,
        channel: 'email',
        template,
        locale: referrer.locale ?? record.locale,
        recipient: 'referrer',
        params: {
          siteName: record.name,
          timezone: record.timezone,
          ...(startsAt ? { at: startsAt.toISOString() } : {}),
        },
        sealedRecipient: {
          recordId: referrer.recordId,
          alg: 'cc-phi-envelope-v1',
          envelope: referrer.sealed.envelope,
        },
      }),
    );
    this.logger.info(
      { siteNumber: site, template, notificationId },
      'referrer notice handed to the notifier',
    );
  }
}
