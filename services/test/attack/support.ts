// Shared by the attack suite: the vault service as a real process under its real AppRole and
// policy, requests from a chosen loopback source address, and the log grep at the end.
import {
  appRoleFor,
  freePort,
  ServiceProcess,
  serviceEnvFor,
  storedTestSeks,
  testLogDir,
  type StackEnv,
} from '@cloud-connect/testing';
import type { JWK } from 'jose';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/**
 * One HTTP request whose TCP source is `from` (any 127.0.0.0/8 address works on loopback), so a
 * test can play both a client and a reverse proxy the service trusts.
 */
export function httpFrom(
  from: string,
  url: string,
  /** `body` is sent as JSON; `form` as application/x-www-form-urlencoded. */
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: unknown;
    form?: Record<string, string>;
  } = {},
): Promise<HttpAnswer> {
  const payload = options.form
    ? new URLSearchParams(options.form).toString()
    : options.body === undefined
      ? undefined
      : JSON.stringify(options.body);
  const contentType = options.form ? 'application/x-www-form-urlencoded' : 'application/json';
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        localAddress: from,
        headers: {
          ...(payload === undefined ? {} : { 'content-type': contentType }),
          ...options.headers,
        },
        timeout: 30000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, unknown> = {};
          try {
            body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            body = { text };
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

async function rootVault(env: StackEnv, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${env.VAULT_ADDR}/v1/${path}`, {
    method,
    headers: { 'x-vault-token': env.VAULT_TOKEN, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10000),
  });
  if (!response.ok) throw new Error(`vault ${method} ${path}: ${response.status}`);
  return response.status === 204 ? {} : response.json();
}

/** Revokes (as the operator) every token Vault issued to AppRole `role`: a stolen or expired token. */
export async function revokeTokensOfRole(env: StackEnv, role: string): Promise<number> {
  const listed = (await rootVault(env, 'LIST', 'auth/token/accessors')) as { data: { keys: string[] } };
  let revoked = 0;
  for (const accessor of listed.data.keys) {
    // A token may expire between the listing and its lookup (Vault then answers 400): skip it.
    const info = (await rootVault(env, 'POST', 'auth/token/lookup-accessor', { accessor }).catch(
      () => null,
    )) as {
      data: { meta?: { role_name?: string } | null };
    } | null;
    if (!info) continue;
    if (info.data.meta?.role_name !== role) continue;
    await rootVault(env, 'POST', 'auth/token/revoke-accessor', { accessor });
    revoked += 1;
  }
  return revoked;
}

export interface VaultUnderTest {
  service: ServiceProcess;
  role: string;
  secretId: string;
  remove(): Promise<void>;
}

/**
 * The vault service under an AppRole bound to its committed policy, with short token lifetimes
 * (the token must be renewed and, past its max TTL, replaced by a fresh login for the service to
 * stay ready), trusting X-Forwarded-For from 127.0.0.2 only.
 */
export async function startVaultService(
  env: StackEnv,
  schema: string,
  role: string,
  lifetimes: { tokenTtl: string; tokenMaxTtl: string },
  extra: Record<string, string> = {},
): Promise<VaultUnderTest> {
  const approle = await appRoleFor(env, 'vault-service', role, lifetimes);
  const service = new ServiceProcess(
    'vault',
    await freePort(),
    serviceEnvFor('vault', env, {
      DATABASE_SCHEMA: schema,
      TRUSTED_PROXIES: '127.0.0.2',
      // A removed SEK is recoverable for 8 s here (days in production).
      SEK_RECOVERY_WINDOW_SECONDS: '8',
      ...approle.env,
      ...extra,
    }),
  ).start();
  await service.waitReady(90000);
  return { service, role, secretId: approle.secretId, remove: approle.remove };
}

/** Every captured service log line that contains one of `secrets` (none may). */
export function leakedInLogs(secrets: string[]): string[] {
  const all = [...secrets, ...storedTestSeks()].filter((s) => s.length >= 8);
  const hits: string[] = [];
  for (const file of readdirSync(testLogDir())) {
    if (!file.endsWith('.log')) continue;
    const text = readFileSync(join(testLogDir(), file), 'utf8');
    for (const secret of all) if (text.includes(secret)) hits.push(`${file}: ${secret.slice(0, 4)}…`);
  }
  return hits;
}

/**
 * referral-intake or emr-gateway under an AppRole bound to its committed policy (same short token
 * lifetimes), checking admin tokens against `vaultUrl`'s JWKS and encrypting PHI through that
 * vault service.
 */
export async function startPhiService(
  name: 'referral-intake' | 'emr-gateway',
  env: StackEnv,
  schema: string,
  role: string,
  vaultUrl: string,
  lifetimes: { tokenTtl: string; tokenMaxTtl: string },
  extra: Record<string, string> = {},
): Promise<VaultUnderTest> {
  const approle = await appRoleFor(env, name, role, lifetimes);
  const service = new ServiceProcess(
    name,
    await freePort(),
    serviceEnvFor(name, env, {
      DATABASE_SCHEMA: schema,
      ADMIN_JWKS_URL: `${vaultUrl}/.well-known/jwks.json`,
      VAULT_SERVICE_URL: vaultUrl,
      ...approle.env,
      ...extra,
    }),
  ).start();
  await service.waitReady(90000);
  return { service, role, secretId: approle.secretId, remove: approle.remove };
}

export function startIntake(
  env: StackEnv,
  schema: string,
  role: string,
  vaultUrl: string,
  lifetimes: { tokenTtl: string; tokenMaxTtl: string },
  extra: Record<string, string> = {},
): Promise<VaultUnderTest> {
  return startPhiService('referral-intake', env, schema, role, vaultUrl, lifetimes, extra);
}

export interface OtlpReceiver {
  /** The base URL a service's OTEL_EXPORTER_OTLP_ENDPOINT names. */
  url: string;
  /** Every export request's raw body (OTLP/HTTP, JSON or protobuf), as text. */
  bodies: string[];
  close(): Promise<void>;
}

/** An OTLP/HTTP trace receiver on loopback: keeps each export's body and answers 200. */
export function otlpReceiver(): Promise<OtlpReceiver> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces') bodies.push(Buffer.concat(chunks).toString('latin1'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        bodies,
        close: () => {
          server.closeAllConnections();
          return new Promise((done) => server.close(() => done()));
        },
      }),
    ),
  );
}

export interface RecordingServer {
  url: string;
  /** Every request it received: path and headers (lower-case names). */
  seen: { path: string; headers: Record<string, string | string[] | undefined> }[];
  close(): Promise<void>;
}

/** An HTTP server on a loopback address that records each request and answers with `handle`. */
export function recordingServer(
  host: string,
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<RecordingServer> {
  const seen: RecordingServer['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => handle(req, res));
  });
  return new Promise((resolve) =>
    server.listen(0, host, () =>
      resolve({
        url: `http://${host}:${(server.address() as AddressInfo).port}`,
        seen,
        close: () => {
          server.closeAllConnections();
          return new Promise((done) => server.close(() => done()));
        },
      }),
    ),
  );
}

const SIGNING_KEY_KV = 'secret/data/service/vault/admin-token-signing-key';

export interface StoredSigningKeys {
  kid: string;
  privateJwk: JWK;
  createdAt: string;
  previous?: { kid: string; publicJwk: Record<string, unknown>; retiredAt: string }[];
}

/** The admin-token key set as Vault KV holds it (read as the operator: what a key thief would hold). */
export async function readSigningKeys(env: StackEnv): Promise<{ data: StoredSigningKeys; version: number }> {
  const read = (await rootVault(env, 'GET', SIGNING_KEY_KV)) as {
    data: { data: StoredSigningKeys; metadata: { version: number } };
  };
  return { data: read.data.data, version: read.data.metadata.version };
}

/**
 * Moves every replaced key's retirement `secondsAgo` into the past (check-and-set): what the key
 * set looks like once that much time has passed, without waiting for it.
 */
export async function ageRetiredSigningKeys(env: StackEnv, secondsAgo: number): Promise<void> {
  const { data, version } = await readSigningKeys(env);
  const retiredAt = new Date(Date.now() - secondsAgo * 1000).toISOString();
  await rootVault(env, 'POST', SIGNING_KEY_KV, {
    options: { cas: version },
    data: { ...data, previous: (data.previous ?? []).map((k) => ({ ...k, retiredAt })) },
  });
}
