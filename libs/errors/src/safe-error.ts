import { randomUUID } from 'node:crypto';
import { DomainError } from './domain-error';

/**
 * One safe-error path for every place that logs or forwards an error (log lines, Kafka retry and
 * dead-letter headers, delivery logs): the error is reduced to a category, a code and an
 * `errorId`. Raw driver, SMTP or network text (which can quote SQL values, addresses, hosts or
 * message content) never leaves this module except in one debug log line, redacted, that carries
 * the same `errorId` (see docs/errors.md "Safe errors").
 */
export type ErrorCategory =
  | 'domain'
  | 'validation'
  | 'database'
  | 'smtp'
  | 'network'
  | 'http'
  | 'vault'
  | 'kafka'
  | 'timeout'
  | 'delivery'
  | 'internal';

export interface SafeError {
  category: ErrorCategory;
  /** A short token: a domain code, a SQLSTATE, an SMTP reply code, an errno code, an HTTP status. */
  code: string;
  errorId: string;
  /** `category/code`, plus a domain error's detail (safe to show by contract). */
  summary: string;
}

/**
 * An error whose message is our own words, written to be shown (no raw driver, server or peer
 * text, no PHI): its message is kept in the safe summary, e.g. a delivery log's "the recipient
 * replied STOP".
 */
export class OwnWordsError extends Error {
  constructor(
    readonly category: ErrorCategory,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'OwnWordsError';
  }
}

type Shape = {
  name?: unknown;
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  responseCode?: unknown;
  command?: unknown;
  statusCode?: unknown;
  status?: unknown;
  response?: { statusCode?: unknown; status?: unknown };
  driverError?: unknown;
  severity?: unknown;
  issues?: unknown;
  cause?: unknown;
};

const NETWORK_CODES =
  /^(ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE|EADDRNOTAVAIL|ERR_SOCKET_.*|UND_ERR_.*|CERT_.*|ERR_TLS_.*|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/;
/** nodemailer's error codes. */
const SMTP_CODES =
  /^(EAUTH|EENVELOPE|EMESSAGE|ESOCKET|ECONNECTION|EDNS|ETLS|EPROTOCOL|ESTREAM|EREQUIRETLS|ENOAUTH)$/;
const SQLSTATE = /^[0-9A-Z]{5}$/;
const TOKEN = /^[A-Za-z0-9_.:-]{1,64}$/;

function token(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  return typeof value === 'string' && TOKEN.test(value) ? value : undefined;
}

function classify(error: unknown, depth = 0): { category: ErrorCategory; code: string; detail?: string } {
  if (error instanceof DomainError)
    return { category: 'domain', code: `${error.domain}:${error.code}`, detail: error.message };
  if (error instanceof OwnWordsError)
    return { category: error.category, code: error.code, detail: error.message };
  if (!error || typeof error !== 'object') return { category: 'internal', code: 'non-error' };
  const e = error as Shape;
  const name = typeof e.name === 'string' ? e.name : '';
  const code = token(e.code);
  if (name === 'InvalidEnvelopeError') return { category: 'validation', code: 'invalid-envelope' };
  if (name === 'ZodError' || Array.isArray(e.issues)) return { category: 'validation', code: 'invalid' };
  // TypeORM wraps the driver's error; pg's DatabaseError carries the SQLSTATE.
  if (name === 'QueryFailedError' && e.driverError && depth < 2) {
    const inner = classify(e.driverError, depth + 1);
    return inner.category === 'database' ? inner : { category: 'database', code: 'query-failed' };
  }
  // pg's DatabaseError (its `name` is "error" in pg-protocol) carries a severity and the SQLSTATE.
  if (code && SQLSTATE.test(code) && (name === 'DatabaseError' || typeof e.severity === 'string'))
    return { category: 'database', code };
  if (typeof e.responseCode === 'number' || (code && SMTP_CODES.test(code)) || typeof e.command === 'string')
    return { category: 'smtp', code: token(e.responseCode) ?? code ?? 'smtp-error' };
  if (name.startsWith('Kafka')) return { category: 'kafka', code: token(name) ?? 'kafka-error' };
  if (name === 'TimeoutError' || name === 'AbortError') return { category: 'timeout', code: 'timeout' };
  if (code && NETWORK_CODES.test(code)) return { category: 'network', code };
  if (typeof e.syscall === 'string' && code) return { category: 'network', code };
  const status = token(e.response?.statusCode ?? e.response?.status ?? e.statusCode ?? e.status);
  if (status && /^[1-5]\d\d$/.test(status)) return { category: 'http', code: status };
  if (e.cause && depth < 2) {
    const inner = classify(e.cause, depth + 1);
    if (inner.category !== 'internal') return inner;
  }
  return { category: 'internal', code: code ?? token(name) ?? 'error' };
}

export function newErrorId(): string {
  return randomUUID();
}

/** The category, code and a fresh (or given) error id of any thrown value: safe to log and forward. */
export function safeError(error: unknown, errorId: string = newErrorId()): SafeError {
  const { category, code, detail } = classify(error);
  const summary = detail ? `${category}/${code}: ${detail}` : `${category}/${code}`;
  return { category, code, errorId, summary: summary.slice(0, 300) };
}

/** One line for a header or a delivery log: `database/23505 (error id 3f…)`. */
export function safeErrorText(error: SafeError): string {
  return `${error.summary} (error id ${error.errorId})`;
}

const REDACTIONS: [RegExp, string][] = [
  // URL credentials, then whole URLs' query strings.
  [/\/\/[^/\s:@]+(:[^/\s@]*)?@/g, '//<credentials>@'],
  [/\?[^\s"')]+/g, '?<query>'],
  // pg's "Key (column)=(value)" and quoted literals.
  [/=\([^)]*\)/g, '=(<value>)'],
  [/'[^']*'/g, "'<value>'"],
  // E-mail addresses, phone numbers, long digit runs (health card numbers, ids).
  [/[^\s<>()"',;:]+@[^\s<>()"',;:]+\.[A-Za-z]{2,}/g, '<email>'],
  [/\+?\d[\d\s().-]{7,}\d/g, '<number>'],
];

/** Removes values from free error text (SQL literals, addresses, numbers, URL credentials and queries). */
export function redactErrorText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of REDACTIONS) out = out.replace(pattern, replacement);
  return out.slice(0, 1000);
}

/** What the debug line keeps of an error: name, redacted message, the codes; never detail/where/parameters. */
export function errorDebugFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { value: typeof error };
  const e = error as Error & Shape;
  return {
    name: e.name,
    message: redactErrorText(e.message),
    ...(token(e.code) ? { code: token(e.code) } : {}),
    ...(typeof e.responseCode === 'number' ? { responseCode: e.responseCode } : {}),
    ...(typeof e.syscall === 'string' ? { syscall: e.syscall } : {}),
    ...(e.stack ? { stack: redactErrorText(e.stack.split('\n').slice(1, 8).join('\n')) } : {}),
  };
}

interface LevelLogger {
  debug(obj: object, msg: string): void;
}

/**
 * Reduces `error` to its safe form and writes the one debug line (redacted, same error id) that
 * lets an operator who turns debug on find the full story. Returns the safe form for the caller's
 * own log line, header or delivery log.
 */
export function reportError(logger: LevelLogger, error: unknown, context: object = {}): SafeError {
  const safe = safeError(error);
  logger.debug(
    {
      ...context,
      errorId: safe.errorId,
      category: safe.category,
      code: safe.code,
      error: errorDebugFields(error),
    },
    'error detail (redacted)',
  );
  return safe;
}
