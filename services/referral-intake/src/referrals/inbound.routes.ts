import { routeAccess } from '@cloud-connect/auth';
import type { Logger } from '@cloud-connect/observability';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fhirErrorHandler, sendFhir } from '../fhir-messages/fhir-http';
import type { InboundCaller, ReceiveMessage } from './receive-message';
import type { Sender } from './sender';

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
 * The FHIR inbound endpoints, in their own Fastify scope: the sender's credentials are checked
 * before the body is read, the body arrives as raw bytes whatever its media type (so a wrong type
 * is a FHIR 415, bad JSON a FHIR 400, and the bundle hash is over what was sent), the size limit
 * answers 413 with an OperationOutcome (to an authenticated sender), and every answer is FHIR.
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
    // The sender is identified (and throttled) from the headers before the body is read: an
    // unauthenticated or throttled post is answered without reading it, and the connection closed.
    const senders = new WeakMap<FastifyRequest, Sender>();
    const caller = (request: FastifyRequest): InboundCaller => ({
      headers: request.headers,
      // Integrators post status back to the FHIR messaging endpoint with their access token.
      bearerAllowed: request.url.startsWith('/fhir/'),
      sourceAddress: request.ip,
    });
    scope.addHook('preParsing', async (request, reply, payload) => {
      const sender = await options.receive.identify(caller(request));
      if ('kind' in sender) senders.set(request, sender);
      else void sendFhir(reply, sender);
      return payload;
    });
    const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> =>
      sendFhir(
        reply,
        await options.receive.execute(
          {
            ...caller(request),
            contentType: request.headers['content-type'],
            body: Buffer.isBuffer(request.body) ? request.body : undefined,
          },
          senders.get(request),
        ),
      );
    for (const path of INBOUND_PATHS) scope.post(path, routeAccess('integration', 'oauth-client'), handler);
    done();
  });
}
