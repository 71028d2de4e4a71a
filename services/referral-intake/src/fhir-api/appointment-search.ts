import { DEFAULT_COUNT, MAX_COUNT, parseDate, SearchParamError, type DateCondition } from './search-params';

/** The search parameters of GET /fhir/Appointment (unknown or malformed ones are refused by name). */
export interface AppointmentQuery {
  ids: string[] | null;
  lastUpdated: DateCondition[];
  count: number;
  includePatient: boolean;
  cursor: string | null;
}

export const APPOINTMENT_INCLUDE = 'Appointment:patient';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function parseAppointmentQuery(query: URLSearchParams): AppointmentQuery {
  const result: AppointmentQuery = {
    ids: null,
    lastUpdated: [],
    count: DEFAULT_COUNT,
    includePatient: false,
    cursor: null,
  };
  const seen = new Set<string>();
  const once = (name: string, value: string): string => {
    if (seen.has(name)) throw new SearchParamError(name, `${name}: give it once`);
    seen.add(name);
    if (value === '') throw new SearchParamError(name, `${name}: empty value`);
    return value;
  };
  for (const [name, raw] of query) {
    switch (name) {
      case '_id': {
        const ids = once(name, raw).split(',');
        // Appointment ids here are UUIDs: anything else matches nothing.
        result.ids = ids.filter((id) => UUID.test(id));
        break;
      }
      case '_lastUpdated':
        result.lastUpdated.push(parseDate(name, raw));
        break;
      case '_sort':
        if (once(name, raw) !== '_lastUpdated')
          throw new SearchParamError(name, '_sort: only _lastUpdated (ascending) is supported');
        break;
      case '_count': {
        const count = Number(once(name, raw));
        if (!Number.isInteger(count) || count < 1)
          throw new SearchParamError(name, '_count: a whole number of at least 1');
        result.count = Math.min(count, MAX_COUNT);
        break;
      }
      case '_include':
        if (raw !== APPOINTMENT_INCLUDE) throw new SearchParamError(name, `_include: ${APPOINTMENT_INCLUDE}`);
        result.includePatient = true;
        break;
      case '_cursor':
        result.cursor = once(name, raw);
        break;
      case '_format':
        if (!['json', 'application/json', 'application/fhir+json'].includes(raw))
          throw new SearchParamError(name, '_format: only JSON is served');
        break;
      default:
        throw new SearchParamError(name, `unknown or unsupported search parameter: ${name}`);
    }
  }
  return result;
}
