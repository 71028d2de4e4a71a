import type { Logger } from '@cloud-connect/observability';
import { safeError } from '@cloud-connect/observability';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isPhiUnavailable, PHI_RETRY_AFTER_SECONDS } from '../crypto/phi-cipher';
import type { AccessTokens } from '../oauth/access-tokens';
import { publicBaseUrl } from '../oauth/public-url';
import { capabilityStatement } from './capability-statement';
import { FHIR_JSON, outcomeAnswer, type FhirAnswer } from './fhir-outcome';
import type { Caller, ReadReferrals } from './read-referrals';

/**
 * GET routes of the FHIR pull API. Each verifies the bearer access token (its site and scopes
 * decide everything the caller sees) and hands over to the ReadReferrals use case.
 */
export function registerFhirApiRoutes(
  fastify: FastifyInstance,
  options: { reads: ReadReferrals; tokens: AccessTokens; publicBaseUrl: string | undefined; logger: Logger },
): void {
  void fastify.register((scope, _opts, done) => {
    scope.setErrorHandler((error, _request, reply) => {
      if (isPhiUnavailable(error)) {
        return send(reply, {
          ...outcomeAnswer(503, 'transient', 'the encryption service is unavailable; retry later'),
          headers: { 'Retry-After': String(PHI_RETRY_AFTER_SECONDS) },
        });
      }
      const errorId = randomUUID();
      options.logger.error({ errorId, error: safeError(error) }, 'FHIR read failed');
      return send(reply, outcomeAnswer(500, 'exception', `internal error (id ${errorId})`));
    });
    const guarded =
      (work: (caller: Caller, request: FastifyRequest) => Promise<FhirAnswer>) =>
      async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
        const header = request.headers.authorization;
        const token =
          typeof header === 'string' && /^Bearer [A-Za-z0-9._~+/-]+=*$/i.test(header)
            ? header.slice(7)
            : null;
        const claims = token ? await options.tokens.verify(token) : null;
        if (!claims) {
          const answer = outcomeAnswer(
            401,
            'login',
            token ? 'the access token is invalid or expired' : 'a bearer access token is required',
          );
          return send(reply, {
            ...answer,
            headers: { 'WWW-Authenticate': token ? 'Bearer error="invalid_token"' : 'Bearer' },
          });
        }
        return send(reply, await work({ site: claims.site, scopes: claims.scopes }, request));
      };
    const selfUrl = (request: FastifyRequest) =>
      `${publicBaseUrl(options.publicBaseUrl, request)}${request.url}`;
    const queryOf = (request: FastifyRequest) => new URLSearchParams(request.url.split('?')[1] ?? '');

    scope.get('/fhir/metadata', async (request, reply) =>
      send(reply, { status: 200, body: capabilityStatement(publicBaseUrl(options.publicBaseUrl, request)) }),
    );
    scope.get(
      '/fhir/ServiceRequest',
      guarded((caller, request) => options.reads.search(caller, queryOf(request), selfUrl(request))),
    );
    scope.get(
      '/fhir/ServiceRequest/:id',
      guarded((caller, request) => options.reads.read(caller, (request.params as { id: string }).id)),
    );
    scope.get(
      '/fhir/Bundle/:id',
      guarded((caller, request) => options.reads.bundle(caller, (request.params as { id: string }).id)),
    );
    done();
  });
}

function send(reply: FastifyReply, answer: FhirAnswer): FastifyReply {
  return reply
    .status(answer.status)
    .headers({ 'Cache-Control': 'no-store', ...(answer.headers ?? {}) })
    .header('Content-Type', FHIR_JSON)
    .send(JSON.stringify(answer.body));
}
