import { isDatabaseUnavailable } from '@cloud-connect/db';
import { HttpException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { SekError } from './sek-custody';
import { VaultUnavailableError } from './sek-vault-store';

export const RETRY_AFTER_SECONDS = 10;

const STATUS: Record<SekError['code'], number> = {
  'invalid-sek': 400,
  'site-not-found': 404,
  'sek-not-found': 404,
  'sek-exists': 409,
  conflict: 409,
  'not-removed': 409,
  'two-person-rule': 403,
  'destroy-not-allowed-yet': 409,
};

const isDatabaseDown = isDatabaseUnavailable;

/**
 * Domain errors of the SEK and PHI use cases as HTTP answers. Vault (or the database) being
 * unavailable is a 503 with Retry-After, never a 500; messages never hold a key or PHI.
 */
export function toHttp(error: unknown, reply: FastifyReply): unknown {
  if (error instanceof SekError) {
    return new HttpException(
      { statusCode: STATUS[error.code], error: error.code, message: error.message },
      STATUS[error.code],
    );
  }
  if (error instanceof VaultUnavailableError || isDatabaseDown(error)) {
    void reply.header('Retry-After', String(RETRY_AFTER_SECONDS));
    const what =
      error instanceof VaultUnavailableError
        ? `the key vault is unavailable (${error.reason})`
        : 'the database is unavailable';
    return new HttpException(
      { statusCode: 503, error: 'unavailable', message: `${what}; nothing was changed, retry later` },
      503,
    );
  }
  return error;
}

/** Runs a use case and maps its domain errors to HTTP answers (see toHttp). */
export async function answering<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toHttp(error, reply);
  }
}
