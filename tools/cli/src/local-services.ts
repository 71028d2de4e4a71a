import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeServiceKeyFiles } from '@cloud-connect/auth';
import {
  distDir,
  REPO_ROOT,
  serviceKafkaEnv,
  stackStateDir,
  waitFor,
  type StackEnv,
} from '@cloud-connect/testing';

export const SERVICES = [
  { name: 'referral-intake', port: 3001, usesVault: true, policy: 'referral-intake' },
  { name: 'emr-gateway', port: 3002, usesVault: true, policy: 'emr-gateway' },
  { name: 'vault', port: 3003, usesVault: true, policy: 'vault-service' },
  { name: 'scheduler', port: 3004, usesVault: false },
  { name: 'notifier', port: 3005, usesVault: false },
] as const;

export type LocalServiceName = (typeof SERVICES)[number]['name'];

export interface ServiceStatus {
  name: string;
  url: string;
  pid: number | null;
  running: boolean;
  ready: boolean;
  log: string;
}

function servicesDir(): string {
  const dir = join(stackStateDir(), 'services');
  mkdirSync(dir, { recursive: true });
  return dir;
}

function pidOf(name: string): number | null {
  const file = join(servicesDir(), `${name}.pid`);
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function isAlive(pid: number | null): boolean {
  if (pid === null) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function isReady(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health/ready`, {
      signal: AbortSignal.timeout(3000),
    });
    return response.ok;
  } catch {
    return false;
  }
}

export async function serviceStatuses(): Promise<ServiceStatus[]> {
  return Promise.all(
    SERVICES.map(async (service) => {
      const pid = pidOf(service.name);
      const running = isAlive(pid);
      return {
        name: service.name,
        url: `http://127.0.0.1:${service.port}`,
        pid: running ? pid : null,
        running,
        ready: running && (await isReady(service.port)),
        log: join(servicesDir(), `${service.name}.log`),
      };
    }),
  );
}

/** Vault API call with the stack's root token (local tooling only). */
async function vaultRequest(env: StackEnv, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${env.VAULT_ADDR}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': env.VAULT_TOKEN, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`vault ${method} ${path} answered ${response.status}`);
  return response.status === 204 ? null : response.json();
}

/**
 * Least privilege locally as in the cluster: each Vault-using service gets an AppRole bound to
 * its own policy (deploy/vault/policies), and logs in with a fresh secret id.
 */
async function appRoleCredentials(
  env: StackEnv,
  role: string,
): Promise<{ roleId: string; secretId: string }> {
  const policy = readFileSync(join(REPO_ROOT, 'deploy', 'vault', 'policies', `${role}.hcl`), 'utf8');
  await vaultRequest(env, 'PUT', `sys/policies/acl/${role}`, { policy });
  await vaultRequest(env, 'POST', `auth/approle/role/${role}`, {
    token_policies: [role],
    token_ttl: '1h',
    token_max_ttl: '24h',
    secret_id_ttl: '24h',
  });
  const roleId = (await vaultRequest(env, 'GET', `auth/approle/role/${role}/role-id`)) as {
    data: { role_id: string };
  };
  const secretId = (await vaultRequest(env, 'POST', `auth/approle/role/${role}/secret-id`)) as {
    data: { secret_id: string };
  };
  return { roleId: roleId.data.role_id, secretId: secretId.data.secret_id };
}

/** One random shared HMAC secret (opt-out links, sealed local secrets) per local stack, kept with the stack's other secrets. */
function serviceAuthSecret(): string {
  const file = join(stackStateDir(), 'secrets', 'service-auth-secret');
  if (!existsSync(file)) {
    mkdirSync(join(stackStateDir(), 'secrets'), { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

/** The local stack's operator token file: `cloud-connect login --operator --token-file <it>`. */
export function operatorTokenFile(): string {
  return join(stackStateDir(), 'secrets', 'operator-token');
}

/**
 * One random operator token per local stack (mode 600 in the stack's secrets directory); the
 * vault service is given only its SHA-256, under the operator name `local`.
 */
function operatorTokenDigest(): string {
  const file = operatorTokenFile();
  if (!existsSync(file)) {
    mkdirSync(join(stackStateDir(), 'secrets'), { recursive: true, mode: 0o700 });
    writeFileSync(file, `ccop_${randomBytes(32).toString('base64url')}`, { mode: 0o600 });
  }
  return createHash('sha256').update(readFileSync(file, 'utf8').trim(), 'utf8').digest('hex');
}

export async function startServices(env: StackEnv): Promise<void> {
  // One signing key per service and the set of their public keys (kept across restarts).
  const keys = writeServiceKeyFiles(
    join(stackStateDir(), 'secrets', 'service-keys'),
    SERVICES.map((service) => service.name),
  );
  for (const service of SERVICES) {
    if (isAlive(pidOf(service.name))) continue;
    const serviceEnv: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      NODE_ENV: 'development',
      LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'info',
      PORT: String(service.port),
      // The service's own Postgres role (its schema only); the owner runs the migrations.
      DATABASE_URL: env.serviceDatabaseUrls?.[service.name] ?? env.DATABASE_URL,
      ...(env.serviceDatabaseUrls?.[service.name] ? { DATABASE_MIGRATION_URL: env.DATABASE_URL } : {}),
      // Its own SCRAM user on the SASL listener, under its ACLs.
      ...serviceKafkaEnv(service.name, env),
      SMTP_HOST: env.SMTP_HOST,
      SMTP_PORT: env.SMTP_PORT,
      SMTP_FROM: 'cloud-connect@demo.local',
      VAULT_ADDR: env.VAULT_ADDR,
      SERVICE_AUTH_SECRET: serviceAuthSecret(),
      SERVICE_SIGNING_KEY_FILE: keys.privateKeys[service.name] ?? '',
      SERVICE_PUBLIC_KEYS_FILE: keys.publicKeys,
      ADMIN_JWKS_URL: 'http://127.0.0.1:3003/.well-known/jwks.json',
      VAULT_SERVICE_URL: 'http://127.0.0.1:3003',
      // The local EMR simulators and receivers listen on http://127.0.0.1 (refused in production).
      EGRESS_ALLOW_LOOPBACK: 'true',
    };
    if (service.name === 'vault') serviceEnv['OPERATOR_TOKENS_SHA256'] = `local:${operatorTokenDigest()}`;
    if (service.usesVault) {
      const { roleId, secretId } = await appRoleCredentials(env, service.policy);
      Object.assign(serviceEnv, {
        VAULT_AUTH_METHOD: 'approle',
        VAULT_ROLE_ID: roleId,
        VAULT_SECRET_ID: secretId,
      });
    }
    const log = openSync(join(servicesDir(), `${service.name}.log`), 'a');
    const child = spawn(process.execPath, [join(distDir(), 'services', service.name, 'src', 'main.js')], {
      cwd: REPO_ROOT,
      env: serviceEnv,
      detached: true,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    if (child.pid === undefined) throw new Error(`could not start ${service.name}`);
    writeFileSync(join(servicesDir(), `${service.name}.pid`), String(child.pid));
    child.unref();
  }
  for (const service of SERVICES) {
    await waitFor(
      `${service.name} to be ready on port ${service.port} (log: ${join(servicesDir(), `${service.name}.log`)})`,
      async () => {
        if (!isAlive(pidOf(service.name))) throw new Error(`${service.name} exited; see its log`);
        return isReady(service.port);
      },
      { timeoutMs: 90000, intervalMs: 500 },
    );
  }
}

export async function stopServices(): Promise<void> {
  await Promise.all(
    SERVICES.map(async (service) => {
      const pid = pidOf(service.name);
      if (isAlive(pid) && pid !== null) {
        process.kill(pid, 'SIGTERM');
        try {
          await waitFor(`${service.name} to stop`, () => !isAlive(pid), {
            timeoutMs: 25000,
            intervalMs: 200,
          });
        } catch {
          process.kill(pid, 'SIGKILL');
        }
      }
      rmSync(join(servicesDir(), `${service.name}.pid`), { force: true });
    }),
  );
}
