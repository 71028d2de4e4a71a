import { isDatabaseUnavailable } from '@cloud-connect/db';
import type { Logger } from '@cloud-connect/observability';
import { safeError } from '@cloud-connect/observability';
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isPhiUnavailable, PHI_RETRY_AFTER_SECONDS } from '../crypto/phi-cipher';
import { phiFailureAnswer, storeUnavailableAnswer } from './inbound-answers';
import { outcomeAnswer, simpleOutcome, type FhirAnswer } from './operation-outcome';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** Sends a FHIR answer: its status, headers (and Retry-After), FHIR JSON, never cached. */
export function sendFhir(reply: FastifyReply, answer: FhirAnswer): FastifyReply {
  void reply.headers({ 'Cache-Control': 'no-store', ...(answer.headers ?? {}) });
  if (answer.retryAfterSeconds !== undefined)
    void reply.header('Retry-After', String(answer.retryAfterSeconds));
  return reply.status(answer.status).header('Content-Type', FHIR_JSON).send(JSON.stringify(answer.body));
}

/**
 * The one error handler of every FHIR scope (`/fhir/*` and `/public/*`): whatever escapes a route
 * is answered as FHIR with an OperationOutcome — 413 for a body over the limit, 4xx when the
 * request could not be read, 503 + Retry-After when Postgres or the vault service is unavailable,
 * else 500 with an error id that is logged (the error itself is logged without PHI).
 */
export function fhirErrorHandler(options: { logger: Logger; maxBodyBytes?: number; what: string }) {
  return (error: { statusCode?: number }, _request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (error.statusCode === 413 && options.maxBodyBytes !== undefined) {
      return sendFhir(reply, {
        status: 413,
        body: simpleOutcome('too-costly', `the body is larger than ${options.maxBodyBytes} bytes`),
      });
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500)
      return sendFhir(reply, outcomeAnswer(error.statusCode, 'invalid', 'the request could not be read'));
    if (isDatabaseUnavailable(error)) return sendFhir(reply, storeUnavailableAnswer());
    const phi = phiFailureAnswer(error);
    if (phi) return sendFhir(reply, phi);
    if (isPhiUnavailable(error)) {
      return sendFhir(reply, {
        ...outcomeAnswer(503, 'transient', 'the encryption service is unavailable; retry later'),
        retryAfterSeconds: PHI_RETRY_AFTER_SECONDS,
      });
    }
    const errorId = randomUUID();
    options.logger.error({ errorId, error: safeError(error) }, `${options.what} failed`);
    return sendFhir(reply, {
      status: 500,
      body: simpleOutcome('exception', `internal error (id ${errorId})`, 'fatal'),
    });
  };
}

/** An OAuth access token as `Authorization: Bearer ...`: any RFC 6750 b64token, or only a JWS. */
const BEARER = {
  any: /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i,
  jws: /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i,
};

/** The credential a request presents: an OAuth bearer access token or an integration API key. */
export type PresentedCredential =
  { kind: 'bearer'; token: string } | { kind: 'api-key'; key: string; header: string } | null;

/**
 * The one parser of who is calling: a bearer access token (`bearer: 'any'` on the pull API;
 * `'jws'` on the messaging endpoints, where an integration may have registered `Authorization`
 * as its API-key header), else an API key from the first of `apiKeyHeaders` (lower-case) present.
 */
export function presentedCredential(
  headers: Record<string, string | string[] | undefined>,
  options: { bearer: 'any' | 'jws' | 'none'; apiKeyHeaders: readonly string[] },
): PresentedCredential {
  const authorization = headers['authorization'];
  const bearer =
    typeof authorization === 'string' && options.bearer !== 'none'
      ? BEARER[options.bearer].exec(authorization)
      : null;
  if (bearer?.[1]) return { kind: 'bearer', token: bearer[1] };
  for (const header of options.apiKeyHeaders) {
    const value = headers[header];
    const key = Array.isArray(value) ? value[0] : value;
    if (typeof key === 'string' && key.length > 0 && key.length <= 1024)
      return { kind: 'api-key', key, header };
  }
  return null;
}
