import { SmsSendError } from '../common/notification-error';

/** Where SMS go. The product speaks one HTTP SMS API; a simulator plays it in tests. */
export interface SmsProvider {
  /** Sends one SMS; `idempotencyKey` lets the provider drop a repeat of the same message. */
  send(message: {
    to: string;
    text: string;
    idempotencyKey: string;
    /** Query identifying the message (site, notification) on the provider's status callbacks. */
    callbackQuery?: string;
  }): Promise<{ providerId: string }>;
}

/**
 * The HTTP SMS API: `POST {base}/messages` with a bearer key, JSON `{to, text}` and an
 * `Idempotency-Key` header; 2xx `{id}` = accepted, 4xx (but 408/429) = permanent failure.
 */
export class HttpSmsProvider implements SmsProvider {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly timeoutMs = 5000,
  ) {}

  async send(message: { to: string; text: string; idempotencyKey: string }): Promise<{ providerId: string }> {
    let response: Response;
    try {
      response = await fetch(new URL('/messages', this.baseUrl), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': message.idempotencyKey,
        },
        body: JSON.stringify({ to: message.to, text: message.text }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw new SmsSendError(null, false);
    }
    if (!response.ok) {
      const permanent =
        response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status);
      throw new SmsSendError(response.status, permanent);
    }
    const body = (await response.json()) as { id?: string };
    return { providerId: body.id ?? '' };
  }
}

/** Where no SMS API is configured: every SMS fails permanently (and is dead-lettered, visibly). */
export class UnconfiguredSmsProvider implements SmsProvider {
  send(): Promise<{ providerId: string }> {
    return Promise.reject(new SmsSendError(null, true));
  }
}
