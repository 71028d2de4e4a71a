import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import { safeError, type Logger } from '@cloud-connect/observability';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { LOGGER } from './tokens';

/**
 * Every unexpected error becomes a 500 with an error id that is also in the log line, so support
 * can find it; the response never carries the error's text (it might hold PHI).
 */
@Catch()
export class ErrorIdFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (exception instanceof HttpException) {
      const body = exception.getResponse();
      const challenge = (exception as { challenge?: unknown }).challenge;
      if (typeof challenge === 'string') void reply.header('WWW-Authenticate', challenge);
      void reply.status(exception.getStatus()).send(typeof body === 'string' ? { message: body } : body);
      return;
    }
    const status = (exception as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Framework-level rejections (body too large, unsupported media type, bad JSON).
      void reply.status(status).send({ statusCode: status, message: (exception as Error).message });
      return;
    }
    const errorId = randomUUID();
    this.logger.error({ errorId, error: safeError(exception) }, 'unhandled error');
    void reply.status(500).send({ statusCode: 500, message: 'Internal error', errorId });
  }
}
