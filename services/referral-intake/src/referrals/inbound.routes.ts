import { routeAccess } from '@cloud-connect/auth';
import type { Logger } from '@cloud-connect/observability';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fhirErrorHandler, sendFhir } from '../fhir-messages/fhir-http';
import type { ReceiveMessage } from './receive-message';

/**
 * Where messages are posted. `$process-message` is FHIR's messaging operation; the
 * `/public/ocean/fhir_bundles` path and the `$process-messages` alias are ours, kept for senders
 * configured with them (the platform's own messages name `$process-messages` as their source).
 */
export const INBOUND_PATHS = [
  '/public/ocean/fhir_bundles',
  '/fhir/$process-message',
  '/fhir/$process-messages',
] as const;

/**
 * The FHIR inbound endpoints, in their own Fastify scope: the body arrives as raw bytes whatever
 * its media type (so a wrong type is a FHIR 415, bad JSON a FHIR 400, and the bundle hash is over
 * what was sent), the size limit answers 413 with an OperationOutcome, and every answer is FHIR.
 * The route handler is thin: it hands the request to the ReceiveMessage use case.
 */
export function registerInboundRoutes(
  fastify: FastifyInstance,
  options: { receive: ReceiveMessage; maxBodyBytes: number; logger: Logger },
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
    scope.setErrorHandler(
      fhirErrorHandler({
        logger: options.logger,
        maxBodyBytes: options.maxBodyBytes,
        what: 'inbound message',
      }),
    );
    const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> =>
      sendFhir(
        reply,
        await options.receive.execute({
          headers: request.headers,
          contentType: request.headers['content-type'],
          body: Buffer.isBuffer(request.body) ? request.body : undefined,
          // Integrators post status back to the FHIR messaging endpoint with their access token.
          bearerAllowed: request.url.startsWith('/fhir/'),
          sourceAddress: request.ip,
        }),
      );
    for (const path of INBOUND_PATHS) scope.post(path, routeAccess('integration', 'oauth-client'), handler);
    done();
  });
}
