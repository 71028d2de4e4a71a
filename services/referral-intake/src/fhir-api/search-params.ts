/**
 * The search parameters of GET /fhir/ServiceRequest, read into a typed query. Anything unknown or
 * malformed is refused with the parameter's name (FHIR servers may ignore unknown parameters, but
 * a strict answer is safer for an integrator than silently wider results).
 */
import { DomainError, type ErrorKind } from '@cloud-connect/errors';

export type Prefix = 'eq' | 'gt' | 'ge' | 'lt' | 'le';

export interface DateCondition {
  prefix: Prefix;
  /** Inclusive start and exclusive end of the value's range, as ISO strings Postgres parses. */
  start: string;
  end: string;
  /** A full instant (its range is the point itself, kept at the precision it was written). */
  point: boolean;
}

export interface ServiceRequestQuery {
  ids: string[] | null;
  identifiers: { system: string | null; value: string }[] | null;
  statuses: string[] | null;
  patient: string | null;
  authored: DateCondition[];
  lastUpdated: DateCondition[];
  count: number;
  include: ('ServiceRequest:subject' | 'ServiceRequest:requester')[];
  cursor: string | null;
}

/** A FHIR search parameter the server cannot use (answered as an OperationOutcome naming it). */
export class SearchParamError extends DomainError<'invalid-search-param'> {
  readonly domain = 'referrals';

  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super('invalid-search-param', message);
  }

  get kind(): ErrorKind {
    switch (this.code) {
      case 'invalid-search-param':
        return 'invalid';
    }
  }
}

export const DEFAULT_COUNT = 50;
export const MAX_COUNT = 500;
const KNOWN = [
  '_id',
  'identifier',
  'status',
  'patient',
  'authored',
  '_lastUpdated',
  '_sort',
  '_count',
  '_include',
  '_cursor',
  '_format',
];
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const PARTIAL = /^(\d{4})(-(\d{2})(-(\d{2}))?)?$/;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export function parseDate(parameter: string, raw: string): DateCondition {
  const match = /^(eq|gt|ge|lt|le)?(.*)$/.exec(raw);
  const prefix = (match?.[1] ?? 'eq') as Prefix;
  const value = match?.[2] ?? '';
  if (INSTANT.test(value) && !Number.isNaN(Date.parse(value)))
    return { prefix, start: value, end: value, point: true };
  const partial = PARTIAL.exec(value);
  if (partial) {
    const year = Number(partial[1]);
    const month = partial[3] === undefined ? null : Number(partial[3]) - 1;
    const day = partial[5] === undefined ? null : Number(partial[5]);
    const start = new Date(Date.UTC(year, month ?? 0, day ?? 1));
    const end = new Date(
      Date.UTC(
        year + (month === null ? 1 : 0),
        (month ?? 0) + (month !== null && day === null ? 1 : 0),
        (day ?? 1) + (day !== null ? 1 : 0),
      ),
    );
    if (
      !Number.isNaN(start.getTime()) &&
      start.getUTCFullYear() === year &&
      (month === null || start.getUTCMonth() === month) &&
      (day === null || start.getUTCDate() === day)
    ) {
      return { prefix, start: start.toISOString(), end: end.toISOString(), point: false };
    }
  }
  throw new SearchParamError(
    parameter,
    `${parameter}: "${raw}" is not a FHIR date or instant with an optional eq/gt/ge/lt/le prefix`,
  );
}

/** Whether an instant (ms) satisfies a date condition (used on decrypted resources). */
export function matchesDate(condition: DateCondition, valueMs: number): boolean {
  const start = Date.parse(condition.start);
  const end = condition.point ? start : Date.parse(condition.end);
  switch (condition.prefix) {
    case 'gt':
      return condition.point ? valueMs > start : valueMs >= end;
    case 'ge':
      return valueMs >= start;
    case 'lt':
      return valueMs < start;
    case 'le':
      return condition.point ? valueMs <= start : valueMs < end;
    case 'eq':
      return condition.point ? valueMs === start : valueMs >= start && valueMs < end;
  }
}

export function parseServiceRequestQuery(query: URLSearchParams): ServiceRequestQuery {
  const result: ServiceRequestQuery = {
    ids: null,
    identifiers: null,
    statuses: null,
    patient: null,
    authored: [],
    lastUpdated: [],
    count: DEFAULT_COUNT,
    include: [],
    cursor: null,
  };
  const single = (name: string, value: string, seen: Set<string>): string => {
    if (seen.has(name)) throw new SearchParamError(name, `${name}: give it once`);
    seen.add(name);
    if (value === '') throw new SearchParamError(name, `${name}: empty value`);
    return value;
  };
  const seen = new Set<string>();
  for (const [name, raw] of query) {
    if (!KNOWN.includes(name))
      throw new SearchParamError(name, `unknown or unsupported search parameter: ${name}`);
    switch (name) {
      case '_id': {
        const ids = single(name, raw, seen).split(',');
        if (!ids.every((id) => ID.test(id))) throw new SearchParamError(name, '_id: not a FHIR id');
        result.ids = ids;
        break;
      }
      case 'identifier':
        result.identifiers = single(name, raw, seen)
          .split(',')
          .map((token) => {
            const bar = token.indexOf('|');
            return bar < 0
              ? { system: null, value: token }
              : { system: token.slice(0, bar) || null, value: token.slice(bar + 1) };
          });
        break;
      case 'status':
        result.statuses = single(name, raw, seen).split(',');
        break;
      case 'patient': {
        const value = single(name, raw, seen).replace(/^Patient\//, '');
        if (!ID.test(value)) throw new SearchParamError(name, 'patient: give a Patient id or Patient/{id}');
        result.patient = value;
        break;
      }
      case 'authored':
        result.authored.push(parseDate(name, raw));
        break;
      case '_lastUpdated':
        result.lastUpdated.push(parseDate(name, raw));
        break;
      case '_sort':
        if (single(name, raw, seen) !== '_lastUpdated')
          throw new SearchParamError(name, '_sort: only _lastUpdated (ascending) is supported');
        break;
      case '_count': {
        const count = Number(single(name, raw, seen));
        if (!Number.isInteger(count) || count < 1)
          throw new SearchParamError(name, '_count: a whole number of at least 1');
        // Above the maximum a server serves its maximum (FHIR search, "_count"); the next link says so.
        result.count = Math.min(count, MAX_COUNT);
        break;
      }
      case '_include':
        if (raw !== 'ServiceRequest:subject' && raw !== 'ServiceRequest:requester') {
          throw new SearchParamError(name, '_include: ServiceRequest:subject or ServiceRequest:requester');
        }
        if (!result.include.includes(raw)) result.include.push(raw);
        break;
      case '_cursor':
        result.cursor = single(name, raw, seen);
        break;
      case '_format':
        if (!['json', 'application/json', 'application/fhir+json'].includes(raw))
          throw new SearchParamError(name, '_format: only JSON is served');
        break;
    }
  }
  return result;
}
