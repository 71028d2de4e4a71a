import type { INestApplicationContext } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { AdminTokenVerifier, bearerIdentity, ServiceTokenVerifier } from '@cloud-connect/auth';
import { PROBLEM_JSON, plainProblem } from '@cloud-connect/errors';
import type { FastifyInstance } from 'fastify';

/** The body limit of a Nest route that declares none (admin JSON): larger is a 413. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

interface LargeBodyConfig {
  largeBody?: number;
}

/**
 * A Nest route whose body may be up to `bytes` (instead of DEFAULT_BODY_LIMIT). Only for routes
 * behind AuthGuard: the caller's bearer token is verified before a byte of the body is read, so
 * an unauthenticated caller is answered 401 without the service reading or parsing the body.
 */
export function LargeBody(bytes: number): MethodDecorator {
  return RouteConfig({ largeBody: bytes } satisfies LargeBodyConfig);
}

function optional<T>(nest: INestApplicationContext, type: new (...args: never[]) => T): T | undefined {
  try {
    return nest.get<T>(type, { strict: false });
  } catch {
    return undefined;
  }
}

/**
 * Per-route body limits on the Nest routes, checked after authentication: a `@LargeBody` route
 * gets its own limit, and its bearer token is verified in `preParsing` (before the content-type
 * parser reads the body); without a valid one the answer is 401 and the connection is closed
 * instead of the rest of the body being read. Raw Fastify scopes (FHIR, OAuth, webhooks) keep
 * their own parsers' limits and check their credentials in their own hooks.
 */
export function installBodyLimits(fastify: FastifyInstance, nest: INestApplicationContext): void {
  fastify.addHook('onRoute', (route) => {
    const config: LargeBodyConfig | undefined = route.config;
    if (typeof config?.largeBody === 'number') route.bodyLimit = config.largeBody;
  });
  // Looked up at the first large-body request: only services with such routes need the verifiers.
  let verifiers: { admins: AdminTokenVerifier; services: ServiceTokenVerifier } | null | undefined;
  const verifiersOf = (): typeof verifiers => {
    if (verifiers === undefined) {
      const admins = optional(nest, AdminTokenVerifier);
      const services = optional(nest, ServiceTokenVerifier);
      verifiers = admins && services ? { admins, services } : null;
    }
    return verifiers;
  };
  fastify.addHook('preParsing', async (request, reply, payload) => {
    if ((request.routeOptions.config as LargeBodyConfig | undefined)?.largeBody === undefined) return payload;
    const known = verifiersOf();
    const identity = known
      ? await bearerIdentity(request.headers.authorization, known)
      : { refused: 'this service checks no bearer tokens' };
    if (!('refused' in identity)) return payload;
    const reason = identity.refused;
    void reply
      .status(401)
      .header('WWW-Authenticate', 'Bearer')
      .header('Connection', 'close')
      .header('Content-Type', PROBLEM_JSON)
      .send(JSON.stringify(plainProblem(401, reason, 'unauthorized')));
    return payload;
  });
}
