import { routeAccess } from '@cloud-connect/auth';
import { isDatabaseUnavailable } from '@cloud-connect/db';
import type { Logger } from '@cloud-connect/observability';
import { safeError } from '@cloud-connect/observability';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AccessTokens } from './access-tokens';
import { ASSERTION_ALGS, type IssueToken } from './issue-token';
import { publicBaseUrl } from './public-url';
import { supportedScopes } from '../fhir-messages/served-resources';

export const TOKEN_PATH = '/oauth/token';

/** SMART App Launch 2.x discovery document of this server. */
export function smartConfiguration(base: string): Record<string, unknown> {
  return {
    token_endpoint: `${base}${TOKEN_PATH}`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    scopes_supported: supportedScopes(),
    capabilities: [
      'client-confidential-symmetric',
      'client-confidential-asymmetric',
      'permission-v1',
      'permission-v2',
    ],
  };
}

/**
 * The token endpoint and the discovery documents, in their own Fastify scope: the form body is
 * read as text (duplicates and media type checked by the use case), answers are RFC 6749 JSON.
 */
export function registerOAuthRoutes(
  fastify: FastifyInstance,
  options: { issue: IssueToken; tokens: AccessTokens; publicBaseUrl: string | undefined; logger: Logger },
): void {
  void fastify.register((scope, _opts, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, next) =>
      next(null, body),
    );
    scope.setErrorHandler((error: { statusCode?: number }, _request, reply) => {
      if (isDatabaseUnavailable(error)) {
        return reply.status(503).header('Retry-After', '5').header('Cache-Control', 'no-store').send({
          error: 'temporarily_unavailable',
          error_description: 'the service is temporarily unavailable; retry later',
        });
      }
      const status =
        typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500
          ? error.statusCode
          : 500;
      const answer = reply.status(status === 500 ? 500 : 400).header('Cache-Control', 'no-store');
      if (status !== 500) {
        return answer.send({ error: 'invalid_request', error_description: 'the request could not be read' });
      }
      // RFC 6749 error body; the error id is answered too, so support can find the log line.
      const errorId = randomUUID();
      options.logger.error({ errorId, error: safeError(error) }, 'oauth request failed');
      return answer.send({
        error: 'server_error',
        error_description: `internal error (id ${errorId})`,
        error_id: errorId,
      });
    });
    scope.post(TOKEN_PATH, routeAccess('oauth-client'), async (request, reply) => {
      const base = publicBaseUrl(options.publicBaseUrl, request);
      const answer = await options.issue.execute({
        authorization: request.headers.authorization,
        contentType: request.headers['content-type'],
        body: typeof request.body === 'string' ? request.body : '',
        sourceAddress: request.ip,
        tokenUrl: `${base}${TOKEN_PATH}`,
      });
      return reply.status(answer.status).headers(answer.headers).send(answer.body);
    });
    scope.get('/.well-known/jwks.json', routeAccess('public'), async (_request, reply) =>
      reply.header('Cache-Control', 'public, max-age=300').send(options.tokens.publicJwks),
    );
    // SMART App Launch 2.x puts discovery under the FHIR base; the server root stays for clients
    // configured before.
    for (const path of ['/fhir/.well-known/smart-configuration', '/.well-known/smart-configuration']) {
      scope.get(path, routeAccess('public'), async (request, reply) =>
        reply.send(smartConfiguration(publicBaseUrl(options.publicBaseUrl, request))),
      );
    }
    done();
  });
}
