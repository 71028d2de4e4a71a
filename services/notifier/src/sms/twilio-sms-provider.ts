import { SmsSendError } from '../common/notification-error';
import type { SmsProvider } from './sms-provider';

export interface TwilioOptions {
  /** https://api.twilio.com, or the simulator's URL. */
  apiUrl: string;
  accountSid: string;
  authToken: string;
  /** The sending number (E.164) or a Messaging Service SID (MG…). */
  from: string;
  /** Base of this notifier's public URL: status callbacks come back to it. */
  webhookBaseUrl?: string;
  timeoutMs?: number;
}

/** Twilio error 21610: the recipient replied STOP to this sender. */
export const TWILIO_UNSUBSCRIBED = 21610;

/**
 * Twilio's Programmable Messaging API (`POST /2010-04-01/Accounts/{Sid}/Messages.json`, HTTP
 * Basic with the account SID and auth token, form-encoded To/From/Body/StatusCallback). Twilio has
 * no idempotency key on this call: a retry after a lost answer can send twice (the window is the
 * one docs/notifier.md describes). 4xx answers are permanent (21610, "replied STOP", included),
 * except 408 and 429; 5xx and network errors are retried.
 */
export class TwilioSmsProvider implements SmsProvider {
  constructor(private readonly options: TwilioOptions) {}

  async send(message: {
    to: string;
    text: string;
    idempotencyKey: string;
    callbackQuery?: string;
  }): Promise<{ providerId: string }> {
    const o = this.options;
    const form = new URLSearchParams({
      To: message.to,
      Body: message.text,
      ...(o.from.startsWith('MG') ? { MessagingServiceSid: o.from } : { From: o.from }),
    });
    if (o.webhookBaseUrl)
      form.set(
        'StatusCallback',
        `${o.webhookBaseUrl.replace(/\/$/, '')}/public/sms/twilio/status?${message.callbackQuery ?? `n=${message.idempotencyKey}`}`,
      );
    let response: Response;
    try {
      response = await fetch(
        new URL(`/2010-04-01/Accounts/${encodeURIComponent(o.accountSid)}/Messages.json`, o.apiUrl),
        {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`${o.accountSid}:${o.authToken}`).toString('base64')}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: form.toString(),
          signal: AbortSignal.timeout(o.timeoutMs ?? 10000),
        },
      );
    } catch {
      throw new SmsSendError(null, false, 'Twilio unreachable');
    }
    const body = (await response.json().catch(() => ({}))) as { sid?: string; code?: number };
    if (!response.ok) {
      const permanent =
        response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status);
      const text =
        body.code === TWILIO_UNSUBSCRIBED
          ? 'the recipient replied STOP (Twilio 21610)'
          : `Twilio answered ${response.status}${body.code ? ` (error ${body.code})` : ''}`;
      throw new SmsSendError(response.status, permanent, text);
    }
    return { providerId: body.sid ?? '' };
  }
}
