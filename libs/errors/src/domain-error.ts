/**
 * The one error model of the services. A use case throws a `DomainError` of its domain, carrying a
 * code from that domain's code list and a detail safe to show (never PHI, a secret or SQL). Each
 * domain classifies every code into an `ErrorKind` with an exhaustive table (`domainErrorClass`);
 * each transport maps the kind once, at its edge: HTTP status (problem+json or OperationOutcome), Kafka disposition.
 * The codes per domain are listed in docs/errors.md.
 */

/** The domains that raise errors; a problem's `type` is built from its domain and code. */
export type ErrorDomain =
  | 'sek'
  | 'phi'
  | 'identity'
  | 'account'
  | 'sites'
  | 'bootstrap'
  | 'audit'
  | 'integrations'
  | 'oauth'
  | 'referrals'
  | 'emr-connections'
  | 'emr-settings'
  | 'emr'
  | 'chart'
  | 'patient-match'
  | 'command-content'
  | 'commands'
  | 'sync'
  | 'scheduler'
  | 'reminders'
  | 'notifications'
  | 'request';

/** What kind of failure an error is; the transports map kinds, not codes. */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'unprocessable'
  | 'too-large'
  | 'throttled'
  | 'unavailable'
  | 'internal';

/** One field's validation failure (`field` is a dotted path; empty when it concerns the whole body). */
export interface FieldError {
  field: string;
  detail: string;
}

export interface DomainErrorOptions {
  /** Seconds after which a retry may succeed (answered as Retry-After on HTTP). */
  retryAfterSeconds?: number;
  /** The underlying error; logged by the edge, never answered. */
  cause?: unknown;
}

export abstract class DomainError<C extends string = string> extends Error {
  abstract readonly domain: ErrorDomain;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: C,
    /** Safe detail for the caller: no PHI, no secret, no internals. */
    message: string,
    /** Per-field details as `path: message` lines (validation). */
    readonly details: string[] = [],
    options: DomainErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The kind of this error's code: each domain answers from its exhaustive code table. */
  abstract get kind(): ErrorKind;

  /** Extra safe members of the answer (RFC 9457 extensions), e.g. the index of a failed item. */
  get extensions(): Record<string, unknown> {
    return {};
  }

  /** The per-field details as field errors. */
  get fields(): FieldError[] {
    return fieldErrors(this.details);
  }
}

/** Which kind each code of a domain is; the type makes the table name every code. */
export type ErrorKinds<C extends string> = Readonly<Record<C, ErrorKind>>;

/**
 * The base class of a domain's error: `class SiteError extends domainErrorClass<SiteErrorCode>('sites',
 * { 'invalid-site': 'invalid', 'site-exists': 'conflict' }) {}`. A code missing from the table (or
 * one not in the union) fails to compile, as an exhaustive switch would.
 */
export function domainErrorClass<C extends string>(domain: ErrorDomain, kinds: ErrorKinds<C>) {
  abstract class KindTableError extends DomainError<C> {
    readonly domain: ErrorDomain = domain;

    get kind(): ErrorKind {
      return kinds[this.code];
    }
  }
  return KindTableError;
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}

/** `path: message` lines as field errors; a line without a path concerns the whole body. */
export function fieldErrors(details: readonly string[]): FieldError[] {
  return details.map((line) => {
    const at = line.indexOf(': ');
    return at > 0 ? { field: line.slice(0, at), detail: line.slice(at + 2) } : { field: '', detail: line };
  });
}

/** How a Kafka consumer treats a failed message: try again later, park it, or let it go. */
export type ConsumerDisposition = 'retry' | 'dead-letter' | 'drop';

/**
 * Kafka's mapping of kinds: only a temporary outage is worth a retry; bad or unprocessable data
 * is parked in the dead-letter topic for an operator; a message about something that no longer
 * exists, or that is already done (conflict), is dropped. Unknown errors are retried.
 */
export function consumerDisposition(error: unknown): ConsumerDisposition {
  if (!(error instanceof DomainError)) return 'retry';
  const kind: ErrorKind = error.kind;
  switch (kind) {
    case 'unavailable':
    case 'throttled':
    case 'internal':
      return 'retry';
    case 'invalid':
    case 'unauthenticated':
    case 'forbidden':
    case 'unprocessable':
    case 'too-large':
      return 'dead-letter';
    case 'not-found':
    case 'conflict':
      return 'drop';
  }
}
