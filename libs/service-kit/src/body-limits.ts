import type { INestApplicationContext } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import {
  AdminTokenVerifier,
  AUTH_DENIAL_SINK,
  type AuthDenialSink,
  bearerIdentity,
  ServiceTokenVerifier,
} from '@cloud-connect/auth';
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

function optional<T>(
  nest: INestApplicationContext,
  token: symbol | (new (...args: never[]) => T),
): T | undefined {
  try {
    return nest.get<T>(token, { strict: false });
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
  const admins = optional<AdminTokenVerifier>(nest, AdminTokenVerifier);
  const services = optional<ServiceTokenVerifier>(nest, ServiceTokenVerifier);
  const sink = optional<AuthDenialSink>(nest, AUTH_DENIAL_SINK);
  fastify.addHook('preParsing', async (request, reply, payload) => {
    if ((request.routeOptions.config as LargeBodyConfig | undefined)?.largeBody === undefined) return payload;
    const identity =
      admins && services
        ? await bearerIdentity(request.headers.authorization, { admins, services })
        : { refused: 'this service checks no bearer tokens' };
    if (!('refused' in identity)) return payload;
    const reason = identity.refused;
    await sink?.denied({
      status: 401,
      reason,
      method: request.method,
      route: request.routeOptions.url ?? '',
      site: null,
      principal: null,
      sourceAddress: request.ip,
    });
    void reply
      .status(401)
      .header('WWW-Authenticate', 'Bearer')
      .header('Connection', 'close')
      .header('Content-Type', PROBLEM_JSON)
      .send(JSON.stringify(plainProblem(401, reason, 'unauthorized')));
    return payload;
  });
}
