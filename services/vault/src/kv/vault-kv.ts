import { domainErrorClass } from '@cloud-connect/errors';

/** Seconds a caller waits before retrying when Vault is unavailable. */
export const VAULT_RETRY_AFTER_SECONDS = 10;

/** Vault is sealed, down, or refuses our token/policy: callers answer 503 with Retry-After. */
export class VaultUnavailableError extends domainErrorClass<'vault-unavailable'>('sek', {
  'vault-unavailable': 'unavailable',
}) {
  constructor(readonly reason: 'sealed-or-down' | 'denied' | 'timeout') {
    super(
      'vault-unavailable',
      `the key vault is unavailable (${reason}); nothing was changed, retry later`,
      [],
      { retryAfterSeconds: VAULT_RETRY_AFTER_SECONDS },
    );
  }
}

/** The HTTP status of a node-vault error, if it has one. */
export function statusOf(error: unknown): number | undefined {
  return (error as { response?: { statusCode?: number } }).response?.statusCode;
}

/**
 * Maps what node-vault throws to our errors. The token is never part of an error here: only
 * the HTTP status and our own reason words leave this function.
 */
export function translate(error: unknown): Error {
  const status = statusOf(error);
  if (status === 403 || status === 401) return new VaultUnavailableError('denied');
  if (status === undefined || status >= 500 || status === 429) {
    const code = (error as { code?: string }).code;
    return new VaultUnavailableError(code === 'ECONNABORTED' ? 'timeout' : 'sealed-or-down');
  }
  return new Error(`vault answered ${status}`);
}

export function isCasMismatch(error: unknown): boolean {
  const status = statusOf(error);
  const body = (error as { response?: { body?: { errors?: string[] } } }).response?.body;
  return status === 400 && (body?.errors ?? []).some((e) => e.includes('check-and-set'));
}
