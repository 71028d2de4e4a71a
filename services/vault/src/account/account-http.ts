import { isDatabaseUnavailable } from '@cloud-connect/db';
import { HttpException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { ThrottledError } from './password-links';
import { AccountError } from './site-account';

const STATUS: Record<AccountError['code'], number> = {
  'not-found': 404,
  'already-admin': 409,
  'last-admin': 409,
  'invalid-link': 400,
  'expired-link': 400,
  'weak-password': 400,
};

/** A 400 naming each field: `details` holds `field: message` lines the console puts next to the field. */
export function invalid(error: z.ZodError): HttpException {
  const details = error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  return new HttpException(
    { statusCode: 400, error: 'invalid-request', message: details.join('; '), details },
    400,
  );
}

export function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw invalid(parsed.error);
  return parsed.data;
}

/** Runs a use case and answers its domain errors with their status; a database outage is a 503. */
export async function answering<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AccountError)
      throw new HttpException(
        {
          statusCode: STATUS[error.code],
          error: error.code,
          message: error.message,
          ...(error.code === 'weak-password' ? { details: [error.message] } : {}),
        },
        STATUS[error.code],
      );
    if (error instanceof ThrottledError) {
      void reply.header('Retry-After', String(error.retryAfterSeconds));
      throw new HttpException({ statusCode: 429, error: 'throttled', message: error.message }, 429);
    }
    if (isDatabaseUnavailable(error)) {
      void reply.header('Retry-After', '10');
      throw new HttpException(
        {
          statusCode: 503,
          error: 'unavailable',
          message: 'the database is unavailable; nothing was changed',
        },
        503,
      );
    }
    throw error;
  }
}
