import { EgressError, type EgressClient } from '@cloud-connect/service-kit';
import { EmrError } from './emr-adapter';

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH';
  path: string;
  query?: Record<string, string | string[]>;
  json?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  idempotencyKey?: string;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Settings shared by every adapter. */
export interface AdapterSettings {
  timeoutMs: number;
  /** Every EMR call goes out through it: https, public addresses only, no redirects. */
  egress: EgressClient;
  /** Largest EMR answer read (bytes). */
  maxResponseBytes: number;
}

/** Transport failures worth retrying later; the others are a misconfigured or hostile endpoint. */
const RETRYABLE_EGRESS = new Set(['dns', 'refused', 'timeout', 'tls', 'network']);

function emrErrorOf(error: EgressError, timeoutMs: number): EmrError {
  if (error.category === 'timeout')
    return new EmrError('unreachable', `EMR did not answer within ${timeoutMs} ms`);
  if (RETRYABLE_EGRESS.has(error.category))
    return new EmrError('unreachable', `EMR is unreachable (${error.category})`);
  return new EmrError('invalid', `EMR call refused: ${error.message}`);
}

function headersOf(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value])
      headers.append(name, v);
  }
  return headers;
}

function describeBody(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
}

/**
 * HTTP to one EMR: maps transport and status failures to EmrError kinds, and re-authenticates
 * once on a 401 (a token that expired) before calling the credentials rejected.
 */
export class EmrHttp {
  constructor(
    private readonly baseUrl: string,
    private readonly settings: AdapterSettings,
    private readonly auth: { headers(): Promise<Record<string, string>>; reset(): void },
  ) {}

  /** A request without our auth headers (token and login endpoints). */
  async raw(request: HttpRequest): Promise<HttpResponse> {
    const url = new URL(this.baseUrl.replace(/\/$/, '') + request.path);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(name, v);
    }
    const headers: Record<string, string> = { accept: 'application/json', ...(request.headers ?? {}) };
    let body: string | undefined;
    if (request.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(request.form).toString();
    } else if (request.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(request.json);
    }
    if (request.idempotencyKey) headers['Idempotency-Key'] = request.idempotencyKey;
    let response: { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer };
    try {
      response = await this.settings.egress.request(url, {
        method: request.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        timeoutMs: this.settings.timeoutMs,
        maxResponseBytes: this.settings.maxResponseBytes,
      });
    } catch (error) {
      if (error instanceof EgressError) throw emrErrorOf(error, this.settings.timeoutMs);
      throw new EmrError('unreachable', 'EMR is unreachable (network)');
    }
    const text = response.body.toString('utf8');
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: headersOf(response.headers), body: parsed };
  }

  async call<T = unknown>(request: HttpRequest): Promise<T> {
    let response = await this.raw({
      ...request,
      headers: { ...(request.headers ?? {}), ...(await this.auth.headers()) },
    });
    if (response.status === 401) {
      this.auth.reset();
      response = await this.raw({
        ...request,
        headers: { ...(request.headers ?? {}), ...(await this.auth.headers()) },
      });
    }
    return checked(response, `${request.method} ${request.path.split('?')[0] ?? ''}`) as T;
  }

  /** A POST filing a new chart entry once per `key` (Idempotency-Key): the id in `idField` of the answer. */
  async create(idField: string, path: string, json: unknown, key: string): Promise<string> {
    const body = await this.call<Record<string, string>>({ method: 'POST', path, json, idempotencyKey: key });
    return body[idField] as string;
  }
}

/** Maps an EMR answer to a value or a typed EmrError. */
export function checked(response: HttpResponse, what: string): unknown {
  const { status } = response;
  if (status >= 200 && status < 300) return response.body;
  const body = describeBody(response.body);
  const extra = { status };
  if (status === 401) throw new EmrError('auth-rejected', `EMR rejected our credentials (${what})`, extra);
  if (status === 403) {
    const missing = Array.isArray(body['missingPermissions'])
      ? (body['missingPermissions'] as string[])
      : undefined;
    throw new EmrError('permission', `EMR user lacks permission (${what})`, {
      ...extra,
      ...(typeof body['providerId'] === 'string' || typeof body['providerId'] === 'number'
        ? { providerId: String(body['providerId']) }
        : {}),
      ...(missing ? { missingPermissions: missing } : {}),
    });
  }
  if (status === 404) throw new EmrError('not-found', `EMR has no such record (${what})`, extra);
  if (status === 405 || status === 501)
    throw new EmrError('unsupported', `EMR does not support this (${what})`, extra);
  if (status === 408 || status === 429 || status >= 500)
    throw new EmrError('transient', `EMR answered ${status} (${what})`, extra);
  throw new EmrError('invalid', `EMR refused the request with ${status} (${what})`, extra);
}

/** A bearer token obtained from a token endpoint, cached until it is reset or expires. */
export class TokenCache {
  private token: string | undefined;
  private expiresAt = 0;

  constructor(private readonly fetchToken: () => Promise<{ token: string; expiresInSeconds: number }>) {}

  async get(): Promise<string> {
    if (this.token && Date.now() < this.expiresAt) return this.token;
    const { token, expiresInSeconds } = await this.fetchToken();
    this.token = token;
    this.expiresAt = Date.now() + Math.max(30, expiresInSeconds - 30) * 1000;
    return token;
  }

  reset(): void {
    this.token = undefined;
  }

  /** A new token now (connect / reconfigure: proves the credentials). */
  async fresh(): Promise<string> {
    this.reset();
    return this.get();
  }
}

/**
 * An EMR API behind OAuth 2 client credentials: the token request (`POST tokenPath` with `form`),
 * its cache, and calls that carry the bearer token (a rejected token is fetched again).
 */
export function clientCredentialsHttp(
  baseUrl: string,
  settings: AdapterSettings,
  form: Record<string, string>,
  tokenPath = '/oauth/token',
): { http: EmrHttp; tokens: TokenCache } {
  const tokens: TokenCache = new TokenCache(async (): Promise<{ token: string; expiresInSeconds: number }> =>
    tokenFrom(checked(await http.raw({ method: 'POST', path: tokenPath, form }), 'token')),
  );
  const http: EmrHttp = new EmrHttp(baseUrl, settings, {
    headers: async () => ({ authorization: `Bearer ${await tokens.get()}` }),
    reset: () => tokens.reset(),
  });
  return { http, tokens };
}

export function tokenFrom(body: unknown): { token: string; expiresInSeconds: number } {
  const b = describeBody(body);
  if (typeof b['access_token'] !== 'string')
    throw new EmrError('invalid', 'EMR token endpoint answered without a token');
  return {
    token: b['access_token'],
    expiresInSeconds: typeof b['expires_in'] === 'number' ? b['expires_in'] : 300,
  };
}
