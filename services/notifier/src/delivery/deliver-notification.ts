import { createHmac } from 'node:crypto';
import { Events } from '@cloud-connect/contracts';
import { OwnWordsError, reportError, safeErrorText } from '@cloud-connect/errors';
import type { Envelope, RetryPolicy } from '@cloud-connect/kafka';
import type { Logger } from '@cloud-connect/observability';
import {
  openParams,
  SealedParamsError,
  type SealedParams,
  type SiteRecord,
} from '@cloud-connect/service-kit';
import type { Transporter } from 'nodemailer';
import type { DataSource, EntityManager } from 'typeorm';
import { PhiClientError, type PhiCipher } from '@cloud-connect/phi-client';
import type { SmsProvider } from '../sms/sms-provider';
import {
  MissingParamError,
  PermanentDeliveryError,
  SmsSendError,
  UnknownTemplateError,
} from '../common/notification-error';
import { render } from '../templates/templates';
import { DeliveriesRepository } from './deliveries.repository';
import { isE164, isEmailAddress } from './recipient';

export function isPermanentDeliveryError(error: unknown): boolean {
  return error instanceof PermanentDeliveryError;
}

const RECIPIENT_REFERENCES = new Set(['site-clinical-admin', 'site-admin']);
/** Recipients whose contact travels sealed: the patient (reminders, notices), the referrer (notices). */
const SEALED_RECIPIENTS = new Set(['patient', 'referrer']);

export interface DeliverySettings {
  from: string;
  retry: RetryPolicy;
  /** Keys the HMAC under which numbers that replied STOP are kept (never a number in clear). */
  optOutKey: string;
  /** Opens `sealedParams` (one-time links): the services' shared secret. */
  sealingSecret?: string;
}

/** How a phone number that replied STOP is kept: HMAC-SHA256, never the number itself. */
export function smsOptOutKey(key: string, phone: string): string {
  return createHmac('sha256', key).update(`sms-opt-out:${phone}`).digest('hex');
}

/**
 * Delivers one `notification.requested`: resolves the recipient, renders the template in the
 * requested language, sends, and keeps the delivery log. Never sends twice: an attempt starts by
 * locking the delivery row; a row already `sent` ends the attempt, and `sent` is written in the
 * consumer's transaction, which commits together with the envelope's dedupe record. The one
 * window left — the SMTP server accepted and the process died before that commit — is bounded
 * and marked: the retry reuses the same Message-ID (`<notificationId@cloud-connect>`), so mail
 * systems and readers can drop the copy (see docs/notifier.md).
 */
export class DeliverNotification {
  private readonly deliveries = new DeliveriesRepository();

  constructor(
    private readonly dataSource: DataSource,
    private readonly mail: Transporter,
    private readonly sms: SmsProvider,
    private readonly sites: { find(site: string): Promise<SiteRecord | null> },
    private readonly settings: DeliverySettings,
    private readonly logger: Logger,
    /** Opens patients' sealed contact details (null: none configured, such messages dead-letter). */
    private readonly cipher: PhiCipher | null = null,
  ) {}

  async handle(envelope: Envelope, tx: EntityManager, attempt: number): Promise<void> {
    if (envelope.type !== Events.notificationRequested.type) return;
    const request = Events.notificationRequested.schema.parse(envelope.payload);
    const site = envelope.siteId;
    const before = await this.dataSource.transaction((t) =>
      this.deliveries.beginAttempt(t, site, {
        notificationId: request.notificationId,
        channel: request.channel,
        template: request.template,
        locale: request.locale,
        recipient: request.recipient,
      }),
    );
    if (before.status === 'sent') {
      this.logger.info(
        { notificationId: request.notificationId },
        'notification already sent; not sending again',
      );
      return;
    }
    try {
      const recipient = SEALED_RECIPIENTS.has(request.recipient)
        ? await this.openSealed(site, request.recipient, request.channel, request.sealedRecipient)
        : await this.resolveRecipient(site, request.channel, request.recipient);
      const message = this.render(request.template, request.locale, {
        ...request.params,
        ...this.openSealedParams(site, request.notificationId, request.sealedParams),
      });
      const providerId =
        request.channel === 'email'
          ? await this.sendMail(request.notificationId, recipient, message)
          : await this.sendSms(site, request.notificationId, recipient, message.text);
      await this.deliveries.markSent(tx, site, request.notificationId, providerId);
      this.logger.info(
        {
          notificationId: request.notificationId,
          channel: request.channel,
          template: request.template,
          attempt,
        },
        'notification sent',
      );
    } catch (error) {
      const final = isPermanentDeliveryError(error) || attempt >= this.settings.retry.maxAttempts;
      // Category, code and error id only (a raw SMTP or driver reply can quote the recipient).
      const safe = reportError(this.logger, error, { notificationId: request.notificationId });
      const reason = safeErrorText(safe);
      await this.dataSource
        .transaction((t) => this.deliveries.markFailed(t, site, request.notificationId, reason, final))
        .catch(() => undefined);
      this.logger.warn(
        {
          notificationId: request.notificationId,
          channel: request.channel,
          attempt,
          final,
          error: safe.summary,
          errorId: safe.errorId,
        },
        'notification not sent',
      );
      throw error;
    }
  }

  /** Sealed params (a one-time link) open here, at send time, and are never logged or stored. */
  private openSealedParams(
    site: string,
    notificationId: string,
    sealed: SealedParams | undefined,
  ): Record<string, string> {
    if (!sealed) return {};
    if (!this.settings.sealingSecret) throw new PermanentDeliveryError('no key to open sealed params');
    try {
      return openParams(this.settings.sealingSecret, site, notificationId, sealed);
    } catch (error) {
      if (error instanceof SealedParamsError) throw new PermanentDeliveryError(error.message);
      throw error;
    }
  }

  private render(
    template: string,
    locale: 'en' | 'fr',
    params: Record<string, string>,
  ): { subject: string; text: string } {
    try {
      return render(template, locale, params);
    } catch (error) {
      if (error instanceof UnknownTemplateError || error instanceof MissingParamError) {
        throw new PermanentDeliveryError(error.message);
      }
      throw error;
    }
  }

  /**
   * The patient's (or referrer's) address, opened from the vault service's sealed envelope at
   * send time and kept in memory only (the delivery log says `patient` / `referrer`). A vault
   * outage is retried; an envelope that does not open, or a contact without this channel, is
   * permanent.
   */
  private async openSealed(
    site: string,
    who: string,
    channel: 'email' | 'sms',
    sealed: { recordId: string; envelope: string } | undefined,
  ): Promise<string> {
    if (!sealed) throw new PermanentDeliveryError(`a ${who} message needs sealedRecipient`);
    if (!this.cipher)
      throw new PermanentDeliveryError(`no vault service is configured to open ${who} contacts`);
    let opened: Buffer;
    try {
      opened = await this.cipher.decrypt(site, sealed.recordId, Buffer.from(sealed.envelope, 'base64'));
    } catch (error) {
      if (error instanceof PhiClientError && !error.retryable)
        throw new PermanentDeliveryError(`the ${who}'s sealed contact does not open (${error.code})`);
      throw error;
    }
    const contact = JSON.parse(opened.toString('utf8')) as { email?: string; phone?: string };
    const address = channel === 'email' ? contact.email : contact.phone;
    if (!address)
      throw new PermanentDeliveryError(
        `the ${who} has no ${channel === 'email' ? 'e-mail address' : 'phone number'}`,
      );
    return this.resolveRecipient(site, channel, address);
  }

  private async resolveRecipient(site: string, channel: 'email' | 'sms', recipient: string): Promise<string> {
    if (!RECIPIENT_REFERENCES.has(recipient)) {
      const ok = channel === 'email' ? isEmailAddress(recipient) : isE164(recipient);
      if (!ok)
        throw new PermanentDeliveryError(
          `recipient is not a valid ${channel === 'email' ? 'e-mail address' : 'E.164 number'}`,
        );
      return recipient;
    }
    if (channel !== 'email') throw new PermanentDeliveryError(`${recipient} has no phone number`);
    const record = await this.sites.find(site);
    // The site directory may not have reached this service yet: retry later.
    if (!record) throw new OwnWordsError('delivery', 'site-unknown', `site ${site} is not known here yet`);
    return recipient === 'site-admin' ? record.adminEmail : (record.clinicalAdminEmail ?? record.adminEmail);
  }

  private async sendMail(
    notificationId: string,
    to: string,
    message: { subject: string; text: string },
  ): Promise<string> {
    try {
      const info = (await this.mail.sendMail({
        from: this.settings.from,
        to,
        subject: message.subject,
        text: message.text,
        messageId: `<${notificationId}@cloud-connect>`,
        headers: { 'X-Cloud-Connect-Notification-Id': notificationId },
      })) as { messageId?: string; rejected?: unknown[] };
      if ((info.rejected ?? []).length > 0)
        throw new PermanentDeliveryError('the SMTP server rejected the recipient');
      return info.messageId ?? notificationId;
    } catch (error) {
      // SMTP_REQUIRE_TLS and the server offered no STARTTLS (or the upgrade failed): nothing was
      // sent in clear. Retried (the relay may be fixed), then dead-lettered for a replay.
      if ((error as { code?: unknown }).code === 'ETLS')
        throw new OwnWordsError(
          'smtp',
          'tls-required',
          'the SMTP server did not upgrade the connection to TLS',
        );
      const code = (error as { responseCode?: number }).responseCode;
      if (typeof code === 'number' && code >= 500 && code < 600) {
        throw new PermanentDeliveryError(`SMTP ${code}`);
      }
      throw error;
    }
  }

  private async sendSms(site: string, notificationId: string, to: string, text: string): Promise<string> {
    if (await this.deliveries.smsOptedOut(this.dataSource.manager, smsOptOutKey(this.settings.optOutKey, to)))
      throw new PermanentDeliveryError('the recipient replied STOP');
    try {
      const callbackQuery = new URLSearchParams({ site, n: notificationId }).toString();
      return (await this.sms.send({ to, text, idempotencyKey: notificationId, callbackQuery })).providerId;
    } catch (error) {
      if (error instanceof SmsSendError && error.permanent) throw new PermanentDeliveryError(error.message);
      throw error;
    }
  }
}
