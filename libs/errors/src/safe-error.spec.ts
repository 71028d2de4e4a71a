import { DomainError, type ErrorKind } from './domain-error';
import { OwnWordsError, redactErrorText, reportError, safeError, safeErrorText } from './safe-error';

class SekNotFound extends DomainError<'sek-not-found'> {
  readonly domain = 'sek';
  constructor() {
    super('sek-not-found', 'site 42 has no SEK');
  }
  get kind(): ErrorKind {
    return 'not-found';
  }
}

/** What pg, TypeORM, nodemailer and Node's sockets really throw (their shapes, with hostile text). */
function pgError(): Error {
  return Object.assign(new Error('duplicate key value violates unique constraint "users_email_key"'), {
    name: 'error',
    severity: 'ERROR',
    code: '23505',
    detail: 'Key (email)=(jane.doe@clinic.ca) already exists.',
  });
}

describe('safeError: one safe form for every logged or forwarded error', () => {
  it('reduces a driver error to database/SQLSTATE, through the TypeORM wrapper too', () => {
    const wrapped = Object.assign(new Error(`INSERT INTO users VALUES ('jane.doe@clinic.ca') failed`), {
      name: 'QueryFailedError',
      driverError: pgError(),
    });
    for (const error of [pgError(), wrapped]) {
      const safe = safeError(error);
      expect(safe).toMatchObject({ category: 'database', code: '23505', summary: 'database/23505' });
      expect(safe.errorId).toMatch(/^[0-9a-f-]{36}$/);
      expect(safeErrorText(safe)).not.toContain('jane');
    }
  });

  it('reduces SMTP failures to smtp/<reply code> or smtp/<nodemailer code>', () => {
    const rejected = Object.assign(new Error('550 5.1.1 <patient@home.ca>: Recipient address rejected'), {
      code: 'EENVELOPE',
      responseCode: 550,
      command: 'RCPT TO',
    });
    const down = Object.assign(new Error('Connection closed unexpectedly by smtp.example.ca'), {
      code: 'ECONNECTION',
    });
    expect(safeError(rejected)).toMatchObject({ category: 'smtp', code: '550', summary: 'smtp/550' });
    expect(safeError(down)).toMatchObject({ category: 'smtp', code: 'ECONNECTION' });
  });

  it('reduces network, HTTP, timeout and Kafka errors to their codes', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:5432'), {
      code: 'ECONNREFUSED',
      syscall: 'connect',
    });
    expect(safeError(refused)).toMatchObject({ category: 'network', code: 'ECONNREFUSED' });
    expect(safeError(Object.assign(new Error('x'), { response: { statusCode: 503 } }))).toMatchObject({
      category: 'http',
      code: '503',
    });
    expect(safeError(Object.assign(new Error('aborted'), { name: 'TimeoutError' }))).toMatchObject({
      category: 'timeout',
    });
    expect(safeError(Object.assign(new Error('broker x'), { name: 'KafkaJSConnectionError' }))).toMatchObject(
      {
        category: 'kafka',
        code: 'KafkaJSConnectionError',
      },
    );
    // A fetch failure carries its socket error as the cause.
    expect(safeError(new TypeError('fetch failed', { cause: refused }))).toMatchObject({
      category: 'network',
      code: 'ECONNREFUSED',
    });
  });

  it('keeps the detail of domain errors and of our own words, never of anything else', () => {
    expect(safeError(new SekNotFound()).summary).toBe('domain/sek:sek-not-found: site 42 has no SEK');
    expect(safeError(new OwnWordsError('delivery', 'permanent', 'the recipient replied STOP')).summary).toBe(
      'delivery/permanent: the recipient replied STOP',
    );
    expect(safeError(new Error('patient Jane Doe, HCN 1234-567-890')).summary).toBe('internal/Error');
    expect(safeError('a string').summary).toBe('internal/non-error');
    // A code that is not a short token is not trusted either.
    expect(safeError(Object.assign(new Error('x'), { code: 'jane.doe@clinic.ca said no' })).code).toBe(
      'Error',
    );
  });

  it('redacts values from the debug text: literals, addresses, numbers, URL credentials and queries', () => {
    const text = redactErrorText(
      `Key (email)=(jane@clinic.ca) exists; 'Jane Doe'; call +1 416 555 0199; https://u:pw@h.ca/p?token=abc`,
    );
    expect(text).toBe(
      `Key (email)=(<value>) exists; '<value>'; call <number>; https://<credentials>@h.ca/p?<query>`,
    );
  });

  it('writes the full error only to one redacted debug line carrying the same error id', () => {
    const lines: { obj: Record<string, unknown>; msg: string }[] = [];
    const logger = {
      debug: (obj: object, msg: string) => lines.push({ obj: obj as Record<string, unknown>, msg }),
    };
    const safe = reportError(logger, pgError(), { envelopeId: 'e1' });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.obj).toMatchObject({ envelopeId: 'e1', errorId: safe.errorId, category: 'database' });
    const logged = JSON.stringify(lines[0]);
    expect(logged).toContain('duplicate key value violates unique constraint');
    expect(logged).not.toContain('jane.doe');
  });
});
