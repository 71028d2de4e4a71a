import { BadRequestException, HttpException, type ArgumentsHost } from '@nestjs/common';
import { DomainError, type ErrorKind } from '@cloud-connect/errors';
import type { Logger } from '@cloud-connect/observability';
import { ProblemFilter } from './http-errors';

class KeyError extends DomainError<'key-missing' | 'vault-down'> {
  readonly domain = 'sek';

  get kind(): ErrorKind {
    switch (this.code) {
      case 'key-missing':
        return 'not-found';
      case 'vault-down':
        return 'unavailable';
    }
  }
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

function answerTo(exception: unknown): { answer: Answer; logged: unknown[] } {
  const answer: Answer = { status: 0, headers: {}, body: {} };
  const reply = {
    status(code: number) {
      answer.status = code;
      return reply;
    },
    header(name: string, value: string) {
      answer.headers[name.toLowerCase()] = value;
      return reply;
    },
    send(payload: string) {
      answer.body = JSON.parse(payload) as Record<string, unknown>;
      return reply;
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => reply }) } as unknown as ArgumentsHost;
  const logged: unknown[] = [];
  const logger = { error: (fields: unknown) => logged.push(fields) } as unknown as Logger;
  new ProblemFilter(logger).catch(exception, host);
  return { answer, logged };
}

describe('ProblemFilter (the admin APIs’ HTTP edge)', () => {
  it('answers a domain error as application/problem+json with the status of its kind', () => {
    const { answer } = answerTo(new KeyError('key-missing', 'site 42 has no SEK'));
    expect(answer.status).toBe(404);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.body).toEqual({
      type: 'urn:cloud-connect:problem:sek:key-missing',
      title: 'Not found',
      status: 404,
      detail: 'site 42 has no SEK',
      code: 'key-missing',
    });
  });

  it('adds Retry-After to an unavailable domain error', () => {
    const { answer } = answerTo(new KeyError('vault-down', 'retry later', [], { retryAfterSeconds: 10 }));
    expect([answer.status, answer.headers['retry-after']]).toEqual([503, '10']);
  });

  it('keeps the status, code and extra members of an HttpException', () => {
    const { answer } = answerTo(
      new HttpException({ code: 'version-conflict', message: 'changed meanwhile', currentVersion: 3 }, 409),
    );
    expect(answer.body).toMatchObject({
      status: 409,
      code: 'version-conflict',
      detail: 'changed meanwhile',
      currentVersion: 3,
    });
    const plain = answerTo(new BadRequestException('bad')).answer;
    expect(plain.body).toMatchObject({ status: 400, code: 'invalid-request', detail: 'bad' });
  });

  it('answers an unexpected error as a 500 with the errorId of its log line and none of its text', () => {
    const { answer, logged } = answerTo(new Error('relation "patients" does not exist'));
    expect(answer.status).toBe(500);
    expect(JSON.stringify(answer.body)).not.toContain('patients');
    expect(answer.body['errorId']).toEqual(expect.any(String));
    expect(logged).toEqual([expect.objectContaining({ errorId: answer.body['errorId'] })]);
  });

  it('answers framework rejections with their own 4xx', () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), { statusCode: 413 });
    expect(answerTo(tooLarge).answer.body).toMatchObject({ status: 413, code: 'too-large' });
  });
});
