import { Writable } from 'node:stream';
import { createLogger, safeError } from './index';

function capture(): { stream: Writable; lines: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, lines: () => chunks.join('') };
}

describe('structured logger', () => {
  it('writes JSON with the service name and never prints secrets or PHI fields', () => {
    const out = capture();
    const logger = createLogger({
      service: 'test-svc',
      level: 'info',
      destination: out.stream,
      secretHeaders: ['X-Site-Key'],
    });
    logger.info(
      {
        sek: 'SEK-VALUE-1',
        integration: { apiKey: 'KEY-VALUE-2', name: 'CHR' },
        req: {
          headers: {
            authorization: 'Bearer TOKEN-3',
            'x-site-key': 'KEY-4',
            'referral-integration-api-key': 'KEY-5',
          },
        },
        patient: { family: 'Tremblay', birthDate: '1970-01-01' },
        context: { telecom: '555-0100' },
      },
      'hello',
    );
    const text = out.lines();
    const line = JSON.parse(text) as Record<string, unknown>;
    expect(line['service']).toBe('test-svc');
    expect(line['msg']).toBe('hello');
    for (const leaked of [
      'SEK-VALUE-1',
      'KEY-VALUE-2',
      'TOKEN-3',
      'KEY-4',
      'KEY-5',
      'Tremblay',
      '1970-01-01',
      '555-0100',
    ]) {
      expect(text).not.toContain(leaked);
    }
    expect(text).toContain('[redacted]');
  });

  it('redacts sensitive names at any depth, including key, outboundKey, client_assertion, plaintext, email', () => {
    const out = capture();
    const logger = createLogger({ service: 'test-svc', level: 'info', destination: out.stream });
    logger.info(
      {
        a: { b: { c: { d: { outboundKey: 'DEEP-1', key: 'DEEP-2' } } } },
        form: { client_assertion: 'DEEP-3' },
        items: [{ plaintext: 'DEEP-4' }],
        actor: { email: 'someone@clinic.ca' },
        vault: { vaultToken: 'DEEP-5' },
        site: '1234',
      },
      'deep',
    );
    const text = out.lines();
    for (const leaked of ['DEEP-1', 'DEEP-2', 'DEEP-3', 'DEEP-4', 'DEEP-5', 'someone@clinic.ca'])
      expect(text).not.toContain(leaked);
    expect(text).toContain('"site":"1234"');
  });

  it('safeError keeps the class and frames but drops the message (driver messages quote values)', () => {
    const error = Object.assign(new Error('Key (hcn)=(1234-567-890) already exists'), { code: '23505' });
    const safe = safeError(error);
    expect(safe.type).toBe('Error');
    expect(safe.code).toBe('23505');
    expect(JSON.stringify(safe)).not.toContain('1234-567-890');
  });
});
