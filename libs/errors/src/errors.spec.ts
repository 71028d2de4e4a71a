import {
  consumerDisposition,
  DomainError,
  domainErrorClass,
  type ErrorKind,
  fieldErrors,
  internalProblem,
  problemOf,
  readProblem,
  statusOfKind,
} from './index';

type SampleCode = 'bad-input' | 'gone' | 'busy' | 'taken';

class SampleError extends domainErrorClass<SampleCode>('sites', {
  'bad-input': 'invalid',
  gone: 'not-found',
  busy: 'unavailable',
  taken: 'conflict',
}) {}

describe('domain errors', () => {
  it("take their domain and each code's kind from the class table, and keep their class name", () => {
    const error = new SampleError('busy', 'try later');
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toBeInstanceOf(SampleError);
    expect(error.name).toBe('SampleError');
    expect(error.domain).toBe('sites');
    expect(
      ['bad-input', 'gone', 'busy', 'taken'].map((c) => new SampleError(c as SampleCode, 'x').kind),
    ).toEqual(['invalid', 'not-found', 'unavailable', 'conflict']);
  });

  it('answer RFC 9457 problem details with the code, the safe detail and the field errors', () => {
    const error = new SampleError('bad-input', 'invalid site: name: required', [
      'name: required',
      'whole body',
    ]);
    expect(problemOf(error)).toEqual({
      type: 'urn:cloud-connect:problem:sites:bad-input',
      title: 'Invalid request',
      status: 400,
      detail: 'invalid site: name: required',
      code: 'bad-input',
      errors: [
        { field: 'name', detail: 'required' },
        { field: '', detail: 'whole body' },
      ],
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('SampleError');
  });

  it('map each kind to one HTTP status', () => {
    const kinds: ErrorKind[] = [
      'invalid',
      'unauthenticated',
      'forbidden',
      'not-found',
      'conflict',
      'unprocessable',
      'too-large',
      'throttled',
      'unavailable',
      'internal',
    ];
    expect(kinds.map(statusOfKind)).toEqual([400, 401, 403, 404, 409, 422, 413, 429, 503, 500]);
  });

  it('tell a Kafka consumer to retry, dead-letter or drop', () => {
    expect(consumerDisposition(new SampleError('busy', 'x'))).toBe('retry');
    expect(consumerDisposition(new SampleError('bad-input', 'x'))).toBe('dead-letter');
    expect(consumerDisposition(new SampleError('gone', 'x'))).toBe('drop');
    expect(consumerDisposition(new SampleError('taken', 'x'))).toBe('drop');
    expect(consumerDisposition(new Error('socket hang up'))).toBe('retry');
  });

  it('answer a 500 with its error id and nothing of the cause', () => {
    const problem = internalProblem('3f1c');
    expect(problem).toMatchObject({ status: 500, code: 'internal', errorId: '3f1c' });
    expect(problem.detail).toBe('internal error (id 3f1c)');
  });

  it('are read back by clients from problem+json and from older bodies', () => {
    expect(
      readProblem(409, {
        code: 'sek-exists',
        detail: 'already stored',
        errors: [{ field: 'sek', detail: 'x' }],
      }),
    ).toEqual({ code: 'sek-exists', detail: 'already stored', details: ['sek: x'] });
    expect(readProblem(400, { error: 'invalid_request', message: 'm', details: ['a: b', 3] })).toEqual({
      code: 'invalid_request',
      detail: 'm',
      details: ['a: b'],
    });
    expect(readProblem(502, 'not json')).toEqual({ code: 'http-502', detail: 'HTTP 502', details: [] });
    expect(fieldErrors(['a.b: c: d'])).toEqual([{ field: 'a.b', detail: 'c: d' }]);
  });
});
