import { routeAccess } from '@cloud-connect/auth';
import { readServerTls } from '@cloud-connect/config';
import { readProblem } from '@cloud-connect/errors';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { z } from 'zod';
import type { ConsoleConfig } from './config';
import { upstreamFor, upstreamUrl } from './routes';
import { contentSecurityPolicy, securityHeaders } from './security-headers';
import { csrfMatches, SessionSealer, viewOf, type ConsoleSession } from './session';

const code = z.string().trim().min(6).max(32).optional();
const signInBody = z.object({
  email: z.string().trim().min(1).max(320),
  password: z.string().min(1).max(256),
  code,
});
const reauthBody = z.object({ password: z.string().min(1).max(256), code });
/** The vault service's second-step answers, passed on with the console's own words. */
const SECOND_STEP: Record<string, string> = {
  'code-required': 'Enter the 6-digit code from your authenticator app.',
  'invalid-code': 'This code is not valid or was already used. Wait for the next one.',
};
const secondStep = (body: unknown): string | null => {
  const c = (body && typeof body === 'object' ? (body as Record<string, unknown>)['code'] : null) ?? null;
  return typeof c === 'string' && c in SECOND_STEP ? c : null;
};
const forgotBody = z.object({ email: z.string().trim().min(1).max(320) });
const resetBody = z.object({ token: z.string().min(1).max(200), password: z.string().max(256) });

interface VaultRelay {
  path: string;
  schema: z.ZodType;
  /** The answer to a body that does not fit the schema (code `invalid-request` unless named). */
  invalid: string;
  invalidCode?: string;
}

/** What the session's forms post to the vault service: where, the body's schema, a refused body's answer. */
const VAULT_RELAYS = {
  signIn: { path: '/auth/login', schema: signInBody, invalid: 'Enter your e-mail and password.' },
  reauthenticate: { path: '/auth/reauthenticate', schema: reauthBody, invalid: 'Enter your password.' },
  forgot: { path: '/auth/password/forgot', schema: forgotBody, invalid: 'Enter your e-mail.' },
  reset: {
    path: '/auth/password/reset',
    schema: resetBody,
    invalid: 'This link is not valid.',
    invalidCode: 'invalid-link',
  },
} satisfies Record<string, VaultRelay>;

/** A session is refreshed (sliding) by any call in its last minutes. */
const REFRESH_WITHIN_SECONDS = 10 * 60;
const issued = z.object({ access_token: z.string().min(1) });
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const FORWARDED_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const NONCE_PLACEHOLDER = '__CSP_NONCE__';

interface ApiError {
  code: string;
  message: string;
  details?: string[];
}

/** Sets the status of an error answer and returns its body (the handler returns or sends it). */
function problem(reply: FastifyReply, status: number, code: string, message: string): ApiError {
  void reply.code(status).type('application/json');
  return { code, message };
}

/**
 * What the page sees of an upstream error: its code, its message for people and the per-field
 * details; never a stack, a SQL text or an upstream URL. Server errors become one generic line.
 */
export function publicError(status: number, body: unknown): ApiError {
  if (status >= 500)
    return {
      code: 'unavailable',
      message: 'The service could not complete this request. Try again shortly.',
    };
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const problem = readProblem(status, body);
  const code = typeof b['code'] === 'string' || typeof b['error'] === 'string' ? problem.code : 'error';
  const message =
    typeof b['detail'] === 'string' || typeof b['message'] === 'string'
      ? problem.detail
      : 'The request was refused.';
  const details = problem.details.slice(0, 50);
  return details.length > 0 ? { code, message, details } : { code, message };
}

/** The console's server side: the built web app, the session, and the admin API from one origin. */
export async function buildServer(config: ConsoleConfig): Promise<FastifyInstance> {
  const tls = readServerTls(config);
  // With a certificate (TLS_CERT_FILE, TLS_KEY_FILE) the server answers HTTPS only.
  const app = Fastify({
    ...(tls ? { https: { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' as const } } : {}),
    logger: { level: config.LOG_LEVEL, redact: ['req.headers.cookie', 'req.headers.authorization'] },
    bodyLimit: 256 * 1024,
    trustProxy: false,
  });
  const sealer = new SessionSealer(config.CONSOLE_SESSION_SECRET);
  const cookieName = config.CONSOLE_COOKIE_SECURE ? '__Host-cc-console' : 'cc-console';
  const webDir = config.CONSOLE_WEB_DIR;
  const indexFile = join(webDir, 'index.html');
  let indexHtml: string | undefined;
  const loadIndex = (): string | undefined =>
    (indexHtml ??= existsSync(indexFile) ? readFileSync(indexFile, 'utf8') : undefined);

  // The build's assets (content-hashed names): looked up by exact name, never by a path.
  const assets = loadAssets(join(webDir, 'assets'));
  app.get<{ Params: { name: string } }>('/assets/:name', routeAccess('public'), (request, reply) => {
    const asset = assets.get(request.params.name);
    if (!asset) return reply.send(problem(reply, 404, 'not-found', 'Not found.'));
    return reply
      .header('cache-control', 'public, max-age=31536000, immutable')
      .type(asset.type)
      .send(asset.body);
  });

  const baseHeaders = securityHeaders(config.CONSOLE_COOKIE_SECURE);
  app.addHook('onRequest', async (request, reply) => {
    void reply.headers(baseHeaders);
    if (request.url.startsWith('/api/') || request.url.startsWith('/session')) {
      void reply.header('cache-control', 'no-store');
      void reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    }
    // Cross-site request forgery: every state change must come from a page of this origin.
    if (UNSAFE.has(request.method)) {
      const origin = request.headers.origin;
      const site = request.headers['sec-fetch-site'];
      let sameOrigin = false;
      try {
        sameOrigin = origin !== undefined && new URL(origin).host === request.headers.host;
      } catch {
        sameOrigin = false;
      }
      if (!sameOrigin || (site !== undefined && site !== 'same-origin')) {
        void reply.send(
          problem(reply, 403, 'cross-origin', 'This request must come from the console itself.'),
        );
        return reply;
      }
    }
  });

  const writeCookie = (reply: FastifyReply, value: string, expires: Date): void => {
    void reply.header(
      'set-cookie',
      serializeCookie(cookieName, value, {
        httpOnly: true,
        secure: config.CONSOLE_COOKIE_SECURE,
        sameSite: 'strict',
        path: '/',
        expires,
      }),
    );
  };
  const setSession = async (reply: FastifyReply, session: ConsoleSession): Promise<void> =>
    writeCookie(reply, await sealer.seal(session), new Date(session.expiresAt * 1000));
  const clearSession = (reply: FastifyReply): void => writeCookie(reply, '', new Date(0));
  /** The session of a token the vault service issued (the CSRF token kept if given), in the cookie. */
  const sessionIssued = async (
    reply: FastifyReply,
    answer: { status: number; body: unknown },
    keepCsrf?: string,
  ): Promise<ConsoleSession | null> => {
    const token = issued.safeParse(answer.body);
    if (answer.status !== 200 || !token.success) return null;
    const session = sealer.open(token.data.access_token, keepCsrf);
    await setSession(reply, session);
    return session;
  };
  /** The request's session; on state changes, only with the session's CSRF token. */
  const sessionOf = async (
    request: FastifyRequest,
    reply: FastifyReply,
    options: { refresh: boolean } = { refresh: true },
  ): Promise<ConsoleSession | null> => {
    const session = await sealer.unseal(parseCookies(request.headers.cookie ?? '')[cookieName]);
    if (!session) {
      clearSession(reply);
      void reply.send(problem(reply, 401, 'session-expired', 'Your session has ended. Sign in again.'));
      return null;
    }
    if (UNSAFE.has(request.method) && !csrfMatches(session, header(request, 'x-csrf-token'))) {
      void reply.send(problem(reply, 403, 'csrf', 'This page is out of date. Reload it and try again.'));
      return null;
    }
    return options.refresh ? refreshed(reply, session) : session;
  };

  /**
   * Sliding sessions: in its last minutes, a session's token is exchanged at the vault service
   * for a new one (same sign-in time, roles read again); when the vault service refuses (the
   * account was disabled, or the last password is too old) the session ends at its expiry.
   */
  const refreshed = async (reply: FastifyReply, session: ConsoleSession): Promise<ConsoleSession> => {
    if (session.expiresAt - Date.now() / 1000 > REFRESH_WITHIN_SECONDS) return session;
    try {
      const answer = await call(`${config.VAULT_SERVICE_URL}/auth/refresh`, {
        method: 'POST',
        token: session.token,
        body: {},
      });
      return (await sessionIssued(reply, answer, session.csrf)) ?? session;
    } catch {
      return session;
    }
  };

  const call = async (
    url: string,
    init: { method: string; token?: string; body?: unknown },
  ): Promise<{ status: number; body: unknown; text: string; contentType: string; headers: Headers }> => {
    const response = await fetch(url, {
      method: init.method,
      headers: {
        accept: 'application/json',
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      signal: AbortSignal.timeout(config.CONSOLE_UPSTREAM_TIMEOUT_MS),
    });
    const text = await response.text();
    const contentType = response.headers.get('content-type') ?? 'application/json';
    let body: unknown = undefined;
    if (contentType.includes('json') && text.length > 0) {
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        body = undefined;
      }
    }
    return { status: response.status, body, text, contentType, headers: response.headers };
  };

  const unreachable = (reply: FastifyReply, error: unknown): ApiError => {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    app.log.warn({ err: { name: error instanceof Error ? error.name : 'Error' } }, 'upstream call failed');
    return problem(
      reply,
      timedOut ? 504 : 502,
      'unavailable',
      'The service could not complete this request. Try again shortly.',
    );
  };

  /** A POST to the vault service; when it cannot be reached, the generic answer to return. */
  const postToVault = async (
    reply: FastifyReply,
    path: string,
    body: unknown,
    token?: string,
  ): Promise<{ answer: Awaited<ReturnType<typeof call>> } | { failed: ApiError }> => {
    try {
      return {
        answer: await call(`${config.VAULT_SERVICE_URL}${path}`, {
          method: 'POST',
          body,
          ...(token ? { token } : {}),
        }),
      };
    } catch (error) {
      return { failed: unreachable(reply, error) };
    }
  };

  /** The request's body, checked by the relay's schema, posted to the vault service; else the 400 to answer. */
  const relayToVault = async (
    request: FastifyRequest,
    reply: FastifyReply,
    relay: VaultRelay,
    token?: string,
  ): ReturnType<typeof postToVault> => {
    const parsed = relay.schema.safeParse(request.body);
    if (!parsed.success)
      return { failed: problem(reply, 400, relay.invalidCode ?? 'invalid-request', relay.invalid) };
    return postToVault(reply, relay.path, parsed.data, token);
  };

  const forwardRetryAfter = (reply: FastifyReply, answer: { headers: Headers }): void => {
    const retry = answer.headers.get('retry-after');
    if (retry) void reply.header('retry-after', retry);
  };

  /**
   * The vault service's answer to a sign-in, or to a fresh sign-in within `current` (whose CSRF
   * token the renewed session keeps): the session's view, or the refusal in the console's words.
   */
  const signedIn = async (
    reply: FastifyReply,
    answer: Awaited<ReturnType<typeof call>>,
    incorrect: string,
    current?: ConsoleSession,
  ): Promise<ApiError | ReturnType<typeof viewOf>> => {
    if (answer.status === 429)
      return problem(reply, 429, 'throttled', 'Too many failed sign-ins. Wait a few minutes and try again.');
    const step = answer.status === 401 ? secondStep(answer.body) : null;
    if (step) return problem(reply, 401, step, SECOND_STEP[step] ?? '');
    if (answer.status === 401 || answer.status === 400)
      return problem(reply, 401, 'invalid-credentials', incorrect);
    const session = await sessionIssued(reply, answer, current?.csrf);
    if (!session) return problem(reply, 502, 'unavailable', publicError(502, null).message);
    return viewOf(session);
  };

  // ---- session ---------------------------------------------------------------------------
  app.get('/session', routeAccess('session'), async (request, reply) => {
    const session = await sessionOf(request, reply);
    if (!session) return reply;
    return viewOf(session);
  });

  app.post('/session', routeAccess('public'), async (request, reply) => {
    const sent = await relayToVault(request, reply, VAULT_RELAYS.signIn);
    if ('failed' in sent) return sent.failed;
    if (sent.answer.status === 429) forwardRetryAfter(reply, sent.answer);
    return signedIn(reply, sent.answer, 'E-mail or password is incorrect.');
  });

  /** A fresh sign-in (password again) for sensitive actions such as viewing the SEK. */
  app.post('/session/reauthenticate', routeAccess('session'), async (request, reply) => {
    const session = await sessionOf(request, reply);
    if (!session) return reply;
    const sent = await relayToVault(request, reply, VAULT_RELAYS.reauthenticate, session.token);
    if ('failed' in sent) return sent.failed;
    return signedIn(reply, sent.answer, 'The password is incorrect.', session);
  });

  // ---- forgotten password and one-time links (no session: the e-mailed link is the proof) ----
  app.post('/session/password/forgot', routeAccess('public'), async (request, reply) => {
    const sent = await relayToVault(request, reply, VAULT_RELAYS.forgot);
    if ('failed' in sent) return sent.failed;
    const { answer } = sent;
    if (answer.status === 429) {
      forwardRetryAfter(reply, answer);
      return problem(reply, 429, 'throttled', 'Too many requests. Wait a few minutes and try again.');
    }
    if (answer.status === 400) return problem(reply, 400, 'invalid-request', 'Enter your e-mail.');
    if (answer.status !== 202) return problem(reply, 502, 'unavailable', publicError(502, null).message);
    return reply.code(202).send({ code: 'sent' });
  });

  app.post('/session/password/reset', routeAccess('public'), async (request, reply) => {
    const sent = await relayToVault(request, reply, VAULT_RELAYS.reset);
    if ('failed' in sent) return sent.failed;
    const { answer } = sent;
    if (answer.status === 200) {
      const email = z.object({ email: z.string() }).safeParse(answer.body);
      return { email: email.success ? email.data.email : '' };
    }
    void reply.code(answer.status >= 500 ? 502 : answer.status);
    return publicError(answer.status, answer.body);
  });

  app.delete('/session', routeAccess('session'), async (request, reply) => {
    const session = await sessionOf(request, reply, { refresh: false });
    if (!session) return reply;
    // The session ends at the vault service too (its token is refused from now on).
    await postToVault(reply, '/auth/logout', {}, session.token);
    clearSession(reply);
    return reply.code(204).send();
  });

  // ---- the admin API -------------------------------------------------------------------------
  app.route({
    ...routeAccess('session'),
    method: [...FORWARDED_METHODS],
    url: '/api/*',
    handler: async (request, reply) => {
      const target = request.url.slice('/api'.length);
      const path = target.split('?')[0] ?? '';
      const upstream = upstreamFor(path);
      if (!upstream) return problem(reply, 404, 'not-found', 'No such page of the admin API.');
      const session = await sessionOf(request, reply);
      if (!session) return reply;
      let answer: Awaited<ReturnType<typeof call>>;
      try {
        answer = await call(`${upstreamUrl(config, upstream)}${target}`, {
          method: request.method,
          token: session.token,
          ...(request.body !== undefined ? { body: request.body } : {}),
        });
      } catch (error) {
        return unreachable(reply, error);
      }
      {
        if (
          answer.status === 401 &&
          /insufficient_user_authentication/.test(answer.headers.get('www-authenticate') ?? '')
        )
          return problem(
            reply,
            401,
            'reauthentication-required',
            'This action needs you to sign in again first.',
          );
        if (answer.status === 401) {
          clearSession(reply);
          return problem(reply, 401, 'session-expired', 'Your session has ended. Sign in again.');
        }
        if (answer.status >= 400) {
          if (answer.status >= 500) app.log.warn({ upstream, status: answer.status }, 'upstream error');
          void reply.code(answer.status >= 500 ? 502 : answer.status);
          return publicError(answer.status, answer.body);
        }
        if (answer.status === 204 || answer.text.length === 0) return reply.code(answer.status).send();
        const disposition = answer.headers.get('content-disposition');
        if (disposition) void reply.header('content-disposition', disposition);
        return reply.code(answer.status).type(answer.contentType).send(answer.text);
      }
    },
  });

  // ---- health --------------------------------------------------------------------------------
  app.get('/health/live', routeAccess('public'), () => ({ status: 'ok' }));
  // The console has no background work: serving (the orchestrator's probe) and ready are one.
  for (const path of ['/health/ready', '/health/serving'])
    app.get(path, routeAccess('public'), (_request, reply) =>
      loadIndex()
        ? { status: 'ok', checks: { web: 'ok' } }
        : reply.code(503).send({ status: 'error', checks: { web: 'missing' } }),
    );

  // ---- the web app: every other GET is a page of the single-page app --------------------------
  app.setNotFoundHandler((request, reply) => {
    if (request.method !== 'GET' || request.url.startsWith('/api/') || request.url.startsWith('/assets/'))
      return reply.send(problem(reply, 404, 'not-found', 'Not found.'));
    const html = loadIndex();
    if (!html) return reply.send(problem(reply, 503, 'unavailable', 'The console is not built.'));
    const nonce = randomBytes(16).toString('base64');
    return reply
      .header('content-security-policy', contentSecurityPolicy(nonce))
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(html.replaceAll(NONCE_PLACEHOLDER, nonce));
  });

  app.setErrorHandler((error: { statusCode?: number }, _request, reply) => {
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) app.log.error({ err: error }, 'console error');
    return reply
      .code(status)
      .send(
        status === 500
          ? publicError(500, null)
          : { code: 'invalid-request', message: 'The request is not valid.' },
      );
  });

  return app;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

function loadAssets(dir: string): Map<string, { type: string; body: Buffer }> {
  const assets = new Map<string, { type: string; body: Buffer }>();
  if (!existsSync(dir)) return assets;
  for (const name of readdirSync(dir)) {
    const type = CONTENT_TYPES[extname(name)];
    if (type) assets.set(name, { type, body: readFileSync(join(dir, name)) });
  }
  return assets;
}
