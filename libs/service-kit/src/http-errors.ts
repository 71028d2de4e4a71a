import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import { isDatabaseUnavailable } from '@cloud-connect/db';
import {
  fieldErrors,
  genericCode,
  internalProblem,
  isDomainError,
  plainProblem,
  PROBLEM_JSON,
  problemOf,
  type Problem,
} from '@cloud-connect/errors';
import { safeError, type Logger } from '@cloud-connect/observability';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { LOGGER } from './tokens';

/** Seconds a client waits before retrying when the database is unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 10;

const RESERVED = new Set([
  'statusCode',
  'message',
  'error',
  'code',
  'details',
  'status',
  'type',
  'title',
  'detail',
]);

/** An HttpException's body (Nest's `{statusCode, message, error}` or ours `{code, message, details}`) as a problem. */
export function problemOfHttpException(exception: HttpException): Problem {
  const status = exception.getStatus();
  const raw = exception.getResponse();
  const body: Record<string, unknown> =
    typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const message = typeof raw === 'string' ? raw : body['message'];
  const detail = Array.isArray(message)
    ? message.filter((m): m is string => typeof m === 'string').join('; ')
    : typeof message === 'string'
      ? message
      : exception.message;
  const code =
    typeof body['code'] === 'string'
      ? body['code']
      : typeof body['error'] === 'string' && /^[a-z_-]+$/.test(body['error'])
        ? body['error']
        : genericCode(status);
  const details = Array.isArray(body['details'])
    ? body['details'].filter((d): d is string => typeof d === 'string')
    : [];
  const extensions = Object.fromEntries(Object.entries(body).filter(([key]) => !RESERVED.has(key)));
  return { ...extensions, ...plainProblem(status, detail, code, fieldErrors(details)) };
}

/**
 * The one HTTP edge of the admin APIs: every error a Nest route throws is answered as RFC 9457
 * `application/problem+json`. Domain errors get the status of their kind; HttpExceptions and the
 * framework's rejections keep their status; an unavailable database is a 503 with Retry-After;
 * anything else is a 500 whose `errorId` is in the answer and in the log line (the error's text
 * is logged without PHI and never answered). FHIR routes have their own edge (OperationOutcome).
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const send = (problem: Problem, retryAfterSeconds?: number): void => {
      if (retryAfterSeconds !== undefined) void reply.header('Retry-After', String(retryAfterSeconds));
      void reply.status(problem.status).header('Content-Type', PROBLEM_JSON).send(JSON.stringify(problem));
    };
    if (isDomainError(exception)) {
      const problem = problemOf(exception);
      if (problem.status === 401) void reply.header('WWW-Authenticate', 'Bearer');
      if (problem.status < 500 || problem.status === 503) return send(problem, exception.retryAfterSeconds);
      return send(this.internal(exception));
    }
    if (exception instanceof HttpException) {
      const challenge = (exception as { challenge?: unknown }).challenge;
      if (typeof challenge === 'string') void reply.header('WWW-Authenticate', challenge);
      const retryAfter = (exception as { retryAfterSeconds?: unknown }).retryAfterSeconds;
      const problem = problemOfHttpException(exception);
      if (problem.status >= 500 && problem.status !== 503) return send(this.internal(exception));
      return send(problem, typeof retryAfter === 'number' ? retryAfter : undefined);
    }
    const status = (exception as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Framework-level rejections (body too large, unsupported media type, bad JSON).
      return send(plainProblem(status, (exception as Error).message));
    }
    if (isDatabaseUnavailable(exception)) {
      return send(
        plainProblem(503, 'the database is unavailable; nothing was changed, retry later', 'unavailable'),
        DATABASE_RETRY_AFTER_SECONDS,
      );
    }
    send(this.internal(exception));
  }

  private internal(exception: unknown): Problem {
    const errorId = randomUUID();
    this.logger.error({ errorId, error: safeError(exception) }, 'unhandled error');
    return internalProblem(errorId);
  }
}
