import type { INestApplicationContext } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { AdminTokenVerifier, bearerIdentity, ServiceTokenVerifier } from '@cloud-connect/auth';
import { PROBLEM_JSON, plainProblem } from '@cloud-connect/errors';
import type { FastifyInstance } from 'fastify';
import type { Socket } from 'node:net';

/** The body limit of a Nest route that declares none (admin JSON): larger is a 413. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** How long, and how much of, a refused request's unread body is read and dropped before closing. */
const DRAIN_MS = 5000;
const DRAIN_MAX_BYTES = 32 * 1024 * 1024;

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
 * parser reads the body); without a valid one the answer is 401 and the body is never parsed
 * (drainRefusedBodies drops the rest of it). Raw Fastify scopes (FHIR, OAuth, webhooks) keep
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
      .header('Content-Type', PROBLEM_JSON)
      .send(JSON.stringify(plainProblem(401, reason, 'unauthorized')));
    return payload;
  });
}

/**
 * A request answered with an error before its body was read (401 before authentication, 413 over
 * the limit) gets the rest of its body read and dropped, for DRAIN_MS and DRAIN_MAX_BYTES at most,
 * instead of its connection being closed at once. A socket closed with unread data in it makes the
 * kernel send a reset, which can reach a client still uploading before it has read the answer: it
 * then sees EPIPE or ECONNRESET instead of the 401 or 413, and cannot tell a refusal from a network
 * fault (RFC 9112 §9.6, the TCP reset problem). Past either bound the connection is closed.
 */
export function drainRefusedBodies(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const raw = request.raw;
    const socket = raw.socket as Socket | null;
    if (reply.statusCode < 400 || raw.complete || !socket || socket.destroyed) {
      done(null, payload);
      return;
    }
    // Without `Connection: close` Node reads the unconsumed body on and drops it after the answer.
    reply.removeHeader('connection');
    let bytes = 0;
    // A kept-alive connection may carry many refused requests: each removes what it added.
    const stop = (): void => {
      clearTimeout(timer);
      socket.off('data', count);
      socket.off('close', stop);
      raw.off('end', stop);
    };
    const count = (chunk: Buffer): void => {
      bytes += chunk.length;
      if (bytes > DRAIN_MAX_BYTES) socket.destroy();
    };
    const timer = setTimeout(() => {
      if (!raw.complete) socket.destroy();
    }, DRAIN_MS).unref();
    socket.on('data', count);
    socket.once('close', stop);
    raw.once('end', stop);
    // A parser that stopped part-way (a streamed body over its limit) left the request paused.
    raw.resume();
    done(null, payload);
  });
}
