import { routeAccess } from '@cloud-connect/auth';
import type { Logger } from '@cloud-connect/observability';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fhirErrorHandler, presentedCredential, sendFhir } from '../fhir-messages/fhir-http';
import { outcomeAnswer, type FhirAnswer } from '../fhir-messages/operation-outcome';
import type { AccessTokens } from '../oauth/access-tokens';
import { publicBaseUrl } from '../oauth/public-url';
import { capabilityStatement } from './capability-statement';
import type { ReadAppointments } from './read-appointments';
import type { Caller, ReadReferrals, SearchRequest } from './read-referrals';

/**
 * GET routes of the FHIR pull API. Each verifies the bearer access token (its site and scopes
 * decide everything the caller sees) and hands over to the ReadReferrals use case.
 */
export function registerFhirApiRoutes(
  fastify: FastifyInstance,
  options: {
    reads: ReadReferrals;
    appointments: ReadAppointments;
    tokens: AccessTokens;
    publicBaseUrl: string | undefined;
    logger: Logger;
  },
): void {
  void fastify.register((scope, _opts, done) => {
    scope.setErrorHandler(fhirErrorHandler({ logger: options.logger, what: 'FHIR read' }));
    const guarded =
      (work: (caller: Caller, request: FastifyRequest) => Promise<FhirAnswer>) =>
      async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
        const credential = presentedCredential(request.headers, { bearer: 'any', apiKeyHeaders: [] });
        const token = credential?.kind === 'bearer' ? credential.token : null;
        const claims = token ? await options.tokens.verify(token) : null;
        if (!claims) {
          const answer = outcomeAnswer(
            401,
            'login',
            token ? 'the access token is invalid or expired' : 'a bearer access token is required',
          );
          return sendFhir(reply, {
            ...answer,
            headers: { 'WWW-Authenticate': token ? 'Bearer error="invalid_token"' : 'Bearer' },
          });
        }
        return sendFhir(reply, await work({ site: claims.site, scopes: claims.scopes }, request));
      };
    const base = (request: FastifyRequest) => publicBaseUrl(options.publicBaseUrl, request);
    const queryOf = (request: FastifyRequest) => new URLSearchParams(request.url.split('?')[1] ?? '');
    const idOf = (request: FastifyRequest) => (request.params as { id: string }).id;
    /** A search: the caller, its query, the absolute URL of this request and the FHIR base. */
    const search =
      (run: (search: SearchRequest) => Promise<FhirAnswer>) => (caller: Caller, request: FastifyRequest) =>
        run({
          caller,
          rawQuery: queryOf(request),
          selfUrl: `${base(request)}${request.url}`,
          fhirBase: `${base(request)}/fhir`,
        });

    scope.get('/fhir/metadata', routeAccess('public'), async (request, reply) =>
      sendFhir(reply, { status: 200, body: capabilityStatement(base(request)) }),
    );
    scope.get(
      '/fhir/ServiceRequest',
      routeAccess('oauth-client', 'integration'),
      guarded(search((request) => options.reads.search(request))),
    );
    scope.get(
      '/fhir/ServiceRequest/:id',
      routeAccess('oauth-client', 'integration'),
      guarded((caller, request) => options.reads.read(caller, idOf(request))),
    );
    scope.get(
      '/fhir/Bundle/:id',
      routeAccess('oauth-client', 'integration'),
      guarded((caller, request) => options.reads.bundle(caller, idOf(request))),
    );
    scope.get(
      '/fhir/Appointment',
      routeAccess('oauth-client'),
      guarded(search((request) => options.appointments.search(request))),
    );
    scope.get(
      '/fhir/Appointment/:id',
      routeAccess('oauth-client'),
      guarded((caller, request) => options.appointments.read(caller, idOf(request))),
    );
    scope.get(
      '/fhir/Patient/:id',
      routeAccess('oauth-client'),
      guarded((caller, request) => options.appointments.readPatient(caller, idOf(request))),
    );
    done();
  });
}
