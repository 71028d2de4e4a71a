import { domainErrorClass } from '@cloud-connect/errors';

export type ChartErrorCode = 'unchartable' | 'source-unavailable';

/**
 * Errors of putting a platform message into the chart: the message cannot be charted (no
 * patient, no health card number, an unknown source: dead-letter), or referral-intake / the vault
 * service cannot answer now (the queue retries without alerting the clinic).
 */
export class ChartError extends domainErrorClass<ChartErrorCode>('chart', {
  unchartable: 'unprocessable',
  'source-unavailable': 'unavailable',
}) {}
