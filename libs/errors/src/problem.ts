import { DomainError, type ErrorKind, type FieldError } from './domain-error';

/** RFC 9457 media type of the admin APIs' error answers. */
export const PROBLEM_JSON = 'application/problem+json';

/** An RFC 9457 problem details object with the extension members every admin API answers. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The machine-readable code (a domain code, or a generic one for framework rejections). */
  code: string;
  /** On every 5xx: the id of the log line that holds the cause. */
  errorId?: string;
  /** Validation failures per field. */
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** HTTP status of each kind (the one HTTP mapping of domain errors). */
export function statusOfKind(kind: ErrorKind): number {
  switch (kind) {
    case 'invalid':
      return 400;
    case 'unauthenticated':
      return 401;
    case 'forbidden':
      return 403;
    case 'not-found':
      return 404;
    case 'conflict':
      return 409;
    case 'too-large':
      return 413;
    case 'unprocessable':
      return 422;
    case 'throttled':
      return 429;
    case 'unavailable':
      return 503;
    case 'internal':
      return 500;
  }
}

const TITLES: Record<number, string> = {
  400: 'Invalid request',
  401: 'Authentication required',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  409: 'Conflict',
  413: 'Content too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  500: 'Internal error',
  502: 'Bad gateway',
  503: 'Service unavailable',
};

/** The short, fixed title of a status. */
export function titleOf(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Internal error' : 'Request refused');
}

/** A generic code for an answer that has no domain code (framework rejections, plain HTTP errors). */
export function genericCode(status: number): string {
  switch (status) {
    case 400:
      return 'invalid-request';
    case 401:
      return 'unauthenticated';
    case 403:
      return 'forbidden';
    case 404:
      return 'not-found';
    case 409:
      return 'conflict';
    case 413:
      return 'too-large';
    case 415:
      return 'unsupported-media-type';
    case 429:
      return 'too-many-requests';
    case 503:
      return 'unavailable';
    default:
      return status >= 500 ? 'internal' : 'request-refused';
  }
}

/** The problem `type` URI of a code: stable, documented in docs/errors.md. */
export function problemType(domain: string, code: string): string {
  return `urn:cloud-connect:problem:${domain}:${code}`;
}

/** A domain error as a problem (the detail is the error's safe message). */
export function problemOf(error: DomainError): Problem {
  const status = statusOfKind(error.kind);
  const fields = error.fields;
  return {
    ...error.extensions,
    type: problemType(error.domain, error.code),
    title: titleOf(status),
    status,
    detail: error.message,
    code: error.code,
    ...(fields.length > 0 ? { errors: fields } : {}),
  };
}

/** A problem for an answer without a domain error (the code may come from the thrower's body). */
export function plainProblem(
  status: number,
  detail: string,
  code: string = genericCode(status),
  fields: FieldError[] = [],
): Problem {
  return {
    type: problemType('request', code),
    title: titleOf(status),
    status,
    detail,
    code,
    ...(fields.length > 0 ? { errors: fields } : {}),
  };
}

/** The answer to an unexpected error: no internals, only the id of the log line. */
export function internalProblem(errorId: string): Problem {
  return {
    type: problemType('request', 'internal'),
    title: titleOf(500),
    status: 500,
    detail: `internal error (id ${errorId})`,
    code: 'internal',
    errorId,
  };
}

/** What a client needs of an error answer: its code, its detail and the per-field lines. */
export interface ProblemSummary {
  code: string;
  detail: string;
  /** `field: detail` lines. */
  details: string[];
}

/**
 * Reads an error answer of an admin API: RFC 9457 problem+json (`code`, `detail`, `errors`), or
 * the older `{error|code, message, details}` bodies of peers still on a previous release.
 */
export function readProblem(status: number, body: unknown): ProblemSummary {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const text = (key: string): string | undefined => (typeof b[key] === 'string' ? b[key] : undefined);
  const code = text('code') ?? text('error') ?? `http-${status}`;
  const detail = text('detail') ?? text('message') ?? `HTTP ${status}`;
  const details = Array.isArray(b['errors'])
    ? b['errors'].flatMap((e: unknown) => {
        const f = (e && typeof e === 'object' ? e : {}) as Record<string, unknown>;
        if (typeof f['detail'] !== 'string') return [];
        return [typeof f['field'] === 'string' && f['field'] ? `${f['field']}: ${f['detail']}` : f['detail']];
      })
    : Array.isArray(b['details'])
      ? b['details'].filter((d): d is string => typeof d === 'string')
      : [];
  return { code, detail, details };
}
