import { consumerDisposition, isDomainError } from '@cloud-connect/errors';
import { ZodError } from 'zod';
import { EmrError } from '../adapters/emr-adapter';

function isZodError(error: unknown): error is ZodError {
  return error instanceof ZodError;
}

/** What the queue does with a command whose attempt failed. */
export type FailureAction =
  | { action: 'hold'; reason: string }
  | { action: 'retry'; delayMs: number; reason: string; alert: boolean }
  | { action: 'dead-letter'; reason: string };

/**
 * Maps an attempt's failure to hold / retry / dead-letter:
 * - credentials rejected → hold the site's queue until re-authentication (no attempt counted);
 * - EMR unreachable or 5xx → retry on the schedule until the horizon, then dead-letter;
 * - permission, not found, invalid, unsupported → dead-letter now (no retry fixes it);
 * - any other domain error whose kind no retry fixes (content that does not open, a message that
 *   cannot be charted), or malformed content → dead-letter now.
 * Anything else (our own dependency, e.g. Vault or referral-intake) retries without alerting the clinic.
 */
export function decideFailure(
  error: unknown,
  attemptsSoFar: number,
  failingForMs: number,
  schedule: readonly number[],
  horizonMs: number,
): FailureAction {
  const reason = error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 500) : 'unknown error';
  const delayMs = schedule[Math.min(attemptsSoFar, schedule.length - 1)] ?? 3600000;
  if (error instanceof EmrError) {
    switch (error.code) {
      case 'auth-rejected':
        return { action: 'hold', reason };
      case 'unreachable':
      case 'transient':
        if (failingForMs >= horizonMs)
          return { action: 'dead-letter', reason: `retry horizon passed; last: ${reason}` };
        return { action: 'retry', delayMs, reason, alert: true };
      case 'permission':
      case 'not-found':
      case 'invalid':
      case 'unsupported':
        return { action: 'dead-letter', reason };
    }
  }
  if ((isDomainError(error) && consumerDisposition(error) === 'dead-letter') || isZodError(error)) {
    return { action: 'dead-letter', reason: `${error.name}: content cannot be opened or is malformed` };
  }
  if (failingForMs >= horizonMs)
    return { action: 'dead-letter', reason: `retry horizon passed; last: ${reason}` };
  return { action: 'retry', delayMs, reason, alert: false };
}

/** Joins the notes of one sitting in form order into one progress note. */
export function combineNotes(notes: { title?: string | undefined; text: string }[]): string {
  return notes.map((n) => (n.title ? `${n.title}\n${n.text}` : n.text)).join('\n\n----------\n\n');
}
