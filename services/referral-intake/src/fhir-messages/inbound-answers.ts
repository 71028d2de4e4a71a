import { isDatabaseUnavailable } from '@cloud-connect/db';
import {
  isPhiUnavailable,
  isSekMissing,
  PHI_RETRY_AFTER_SECONDS,
  sekMissingMessage,
} from '../crypto/phi-cipher';
import { simpleOutcome, type FhirAnswer } from './operation-outcome';

/** What an inbound FHIR endpoint answers (the one FHIR answer type). */
export type InboundAnswer = FhirAnswer;

const ACCEPTED_TYPES = new Set(['application/fhir+json', 'application/json']);
const STORE_RETRY_AFTER_SECONDS = 5;
/** The receiving site has no SEK yet: a person must act there, so ask for a slow retry. */
const SEK_MISSING_RETRY_AFTER_SECONDS = 300;

/** 429 with Retry-After when the sender's bucket is empty (`wait` seconds from the RateLimiter). */
export function throttledAnswer(wait: number, who: string): InboundAnswer | null {
  if (wait <= 0) return null;
  return {
    status: 429,
    body: simpleOutcome('throttled', `too many requests for this ${who}`),
    retryAfterSeconds: wait,
  };
}

/** 415 unless the body is declared as FHIR JSON (or plain JSON). */
export function mediaTypeRefusal(contentType: string | undefined): InboundAnswer | null {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType && ACCEPTED_TYPES.has(mediaType)) return null;
  return {
    status: 415,
    body: simpleOutcome('not-supported', 'send application/fhir+json (or application/json)'),
  };
}

/** 503 with Retry-After: Postgres unreachable, restarting, or out of connections. */
export function storeUnavailableAnswer(): InboundAnswer {
  return {
    status: 503,
    body: simpleOutcome('transient', 'the referral store is unavailable; retry later', 'error'),
    retryAfterSeconds: STORE_RETRY_AFTER_SECONDS,
  };
}

/**
 * Handles an inbound post with `receive`, answering 503 instead of failing when the store or the
 * encryption is unavailable (nothing was stored then: the content is encrypted before the
 * transaction). Any other error is thrown on.
 */
export async function answeringUnavailable<T = InboundAnswer>(
  receive: () => Promise<T | InboundAnswer>,
): Promise<T | InboundAnswer> {
  try {
    return await receive();
  } catch (error) {
    if (isDatabaseUnavailable(error)) return storeUnavailableAnswer();
    const phiFailure = phiFailureAnswer(error);
    if (phiFailure) return phiFailure;
    throw error;
  }
}

/**
 * 503 with Retry-After when the message could not be encrypted: the site has no SEK yet, or the
 * vault service (or Vault behind it) is unavailable. Null for any other error.
 */
export function phiFailureAnswer(error: unknown): InboundAnswer | null {
  if (isSekMissing(error)) {
    return {
      status: 503,
      body: simpleOutcome(
        'transient',
        `${sekMissingMessage(error.site ?? 'this site')}; nothing was stored, retry later`,
        'error',
      ),
      retryAfterSeconds: SEK_MISSING_RETRY_AFTER_SECONDS,
    };
  }
  if (isPhiUnavailable(error)) {
    return {
      status: 503,
      body: simpleOutcome(
        'transient',
        'the encryption service is unavailable; nothing was stored, retry later',
        'error',
      ),
      retryAfterSeconds: PHI_RETRY_AFTER_SECONDS,
    };
  }
  return null;
}
