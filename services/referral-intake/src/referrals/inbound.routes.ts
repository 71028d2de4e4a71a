import type { Logger } from '@cloud-connect/observability';
import { safeError } from '@cloud-connect/observability';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { simpleOutcome } from './operation-outcome';
import type { ReceiveStatusUpdate } from '../status-updates/receive-status-update';
import type { InboundAnswer, ReceiveReferral } from './receive-referral';

export const INBOUND_PATHS = [
  '/public/ocean/fhir_bundles',
  '/fhir/$process-message',
  '/fhir/$process-messages',
] as const;

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
/** An OAuth access token (a JWS in compact form) as `Authorization: Bearer ...`. */
const BEARER_JWT = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

/**
 * The FHIR inbound endpoints, in their own Fastify scope: the body arrives as raw bytes whatever
 * its media type (so a wrong type is a FHIR 415, bad JSON a FHIR 400, and the bundle hash is over
 * what was sent), the size limit answers 413 with an OperationOutcome, and every answer is FHIR.
 * The route handler is thin: it hands the request to the ReceiveReferral use case.
 */
export function registerInboundRoutes(
  fastify: FastifyInstance,
  options: {
    receive: ReceiveReferral;
    statusUpdates: ReceiveStatusUpdate;
    maxBodyBytes: number;
    logger: Logger;
  },
): void {
  void fastify.register((scope, _opts, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: options.maxBodyBytes },
      (_req, body, next) => {
        next(null, body);
      },
    );
    scope.setErrorHandler((error: { statusCode?: number }, _request, reply) => {
      if (error.statusCode === 413) {
        return send(reply, {
          status: 413,
          body: simpleOutcome('too-costly', `the body is larger than ${options.maxBodyBytes} bytes`),
        });
      }
      if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
        return send(reply, {
          status: error.statusCode,
          body: simpleOutcome('invalid', 'the request could not be read'),
        });
      }
      const errorId = randomUUID();
      options.logger.error({ errorId, error: safeError(error) }, 'inbound referral failed');
      return send(reply, {
        status: 500,
        body: { ...simpleOutcome('exception', `internal error (id ${errorId})`, 'fatal') },
      });
    });
    const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      // Integrators post status back to the FHIR messaging endpoint with their OAuth access token;
      // everyone else posts with an integration API key.
      const bearer = BEARER_JWT.exec(request.headers.authorization ?? '');
      if (bearer?.[1] && request.url.startsWith('/fhir/')) {
        await send(
          reply,
          await options.statusUpdates.execute({
            accessToken: bearer[1],
            contentType: request.headers['content-type'],
            body: Buffer.isBuffer(request.body) ? request.body : undefined,
          }),
        );
        return;
      }
      const answer = await options.receive.execute({
        headers: request.headers,
        contentType: request.headers['content-type'],
        body: Buffer.isBuffer(request.body) ? request.body : undefined,
      });
      await send(reply, answer);
    };
    for (const path of INBOUND_PATHS) scope.post(path, handler);
    done();
  });
}

function send(reply: FastifyReply, answer: InboundAnswer): FastifyReply {
  if (answer.headers) void reply.headers(answer.headers);
  if (answer.retryAfterSeconds !== undefined)
    void reply.header('Retry-After', String(answer.retryAfterSeconds));
  return reply.status(answer.status).header('Content-Type', FHIR_JSON).send(JSON.stringify(answer.body));
}
