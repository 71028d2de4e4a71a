import {
  matchesDate,
  MAX_COUNT,
  parseDate,
  parseServiceRequestQuery,
  SearchParamError,
} from './search-params';

const q = (s: string) => parseServiceRequestQuery(new URLSearchParams(s));

describe('ServiceRequest search parameters', () => {
  it('reads a full query', () => {
    const query = q(
      '_lastUpdated=gt2026-11-23T17:05:01.123456Z&_lastUpdated=lt2027&status=active,draft&patient=Patient/p1&_count=10&_sort=_lastUpdated&_include=ServiceRequest:subject&identifier=urn:x|42',
    );
    expect(query.lastUpdated).toEqual([
      { prefix: 'gt', start: '2026-11-23T17:05:01.123456Z', end: '2026-11-23T17:05:01.123456Z', point: true },
      { prefix: 'lt', start: '2027-01-01T00:00:00.000Z', end: '2028-01-01T00:00:00.000Z', point: false },
    ]);
    expect(query.statuses).toEqual(['active', 'draft']);
    expect(query.patient).toBe('p1');
    expect(query.count).toBe(10);
    expect(query.include).toEqual(['ServiceRequest:subject']);
    expect(query.identifiers).toEqual([{ system: 'urn:x', value: '42' }]);
  });

  it.each([
    ['foo=1', 'foo'],
    ['status:not=active', 'status:not'],
    ['_count=0', '_count'],
    ['_count=abc', '_count'],
    ['_lastUpdated=gt2026-13-01', '_lastUpdated'],
    ['_lastUpdated=yesterday', '_lastUpdated'],
    ['_sort=-_lastUpdated', '_sort'],
    ['_include=ServiceRequest:performer', '_include'],
    ['_id=a&_id=b', '_id'],
  ])('refuses %s naming %s', (query, name) => {
    let thrown: unknown;
    try {
      q(query);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SearchParamError);
    expect((thrown as SearchParamError).parameter).toBe(name);
  });

  it('serves its maximum when _count asks for more', () => {
    expect(q('_count=100000').count).toBe(MAX_COUNT);
    expect(q('_count=7').count).toBe(7);
  });

  it('compares partial dates as ranges and instants as points', () => {
    const day = Date.parse('2026-11-23T12:00:00Z');
    expect(matchesDate(parseDate('d', '2026-11-23'), day)).toBe(true);
    expect(matchesDate(parseDate('d', 'gt2026-11-23'), day)).toBe(false);
    expect(matchesDate(parseDate('d', 'ge2026-11'), day)).toBe(true);
    expect(matchesDate(parseDate('d', 'lt2026-11-23T12:00:00Z'), day)).toBe(false);
    expect(matchesDate(parseDate('d', 'le2026-11-23T12:00:00Z'), day)).toBe(true);
    expect(matchesDate(parseDate('d', 'le2026-11-22'), day)).toBe(false);
  });
});
