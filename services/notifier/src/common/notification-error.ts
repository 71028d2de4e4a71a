import { domainErrorClass } from '@cloud-connect/errors';

export type NotificationErrorCode =
  'unknown-template' | 'missing-param' | 'sms-rejected' | 'sms-unavailable' | 'undeliverable';

/**
 * Errors of delivering a notification. A template the notifier does not have or a param it
 * lacks, an SMS the provider refuses for good, and any other failure no retry fixes
 * (`undeliverable`) go to the dead-letter topic; an SMS provider that cannot answer now is retried.
 */
export class NotificationError extends domainErrorClass<NotificationErrorCode>('notifications', {
  'unknown-template': 'invalid',
  'missing-param': 'invalid',
  'sms-rejected': 'unprocessable',
  undeliverable: 'unprocessable',
  'sms-unavailable': 'unavailable',
}) {}

/** A template the notifier does not have. */
export class UnknownTemplateError extends NotificationError {
  constructor(readonly template: string) {
    super('unknown-template', `unknown notification template ${template}`);
  }
}

/** A param the template needs is missing or empty. */
export class MissingParamError extends NotificationError {
  constructor(
    readonly template: string,
    readonly param: string,
  ) {
    super('missing-param', `template ${template} needs param ${param}`);
  }
}

/** The SMS provider refused the message (`permanent`: for good) or could not be reached. */
export class SmsSendError extends NotificationError {
  constructor(
    readonly status: number | null,
    readonly permanent: boolean,
    message?: string,
  ) {
    super(
      permanent ? 'sms-rejected' : 'sms-unavailable',
      message ?? (status === null ? 'SMS API unreachable' : `SMS API answered ${status}`),
    );
  }
}

/** A failure no retry can fix: the message goes straight to the dead-letter topic. */
export class PermanentDeliveryError extends NotificationError {
  constructor(message: string) {
    super('undeliverable', message);
  }
}
