import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root, found from this file both in the sources and in dist/. */
export const REPO_ROOT = ((): string => {
  let dir = __dirname;
  for (let i = 0; i < 8; i += 1) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error(`cannot find the repository root above ${__dirname}`);
})();

/** Where the build is (CC_DIST_DIR lets several builds coexist, e.g. parallel work trees). */
export function distDir(): string {
  return resolve(REPO_ROOT, process.env['CC_DIST_DIR'] ?? 'dist');
}

export interface StackEnv {
  DATABASE_URL: string;
  DATABASE_ADMIN_URL: string;
  KAFKA_BROKERS: string;
  VAULT_ADDR: string;
  VAULT_TOKEN: string;
  SMTP_HOST: string;
  SMTP_PORT: string;
  MAIL_API_URL: string;
  /**
   * Each service's own login role (`DATABASE_URL_VAULT`, `DATABASE_URL_EMR_GATEWAY`…), granted its
   * schema only; DATABASE_URL (the owner) then migrates. Absent on a stack without them.
   */
  serviceDatabaseUrls?: Record<string, string>;
  /** The broker's SASL/SCRAM listener and each service user's (`cc-<service>`) password file. */
  kafkaSasl?: { brokers: string; passwordFiles: Record<string, string> };
}

const KEYS: Exclude<keyof StackEnv, 'serviceDatabaseUrls' | 'kafkaSasl'>[] = [
  'DATABASE_URL',
  'DATABASE_ADMIN_URL',
  'KAFKA_BROKERS',
  'VAULT_ADDR',
  'VAULT_TOKEN',
  'SMTP_HOST',
  'SMTP_PORT',
  'MAIL_API_URL',
];

/** The suffix of a service's variables in stack.env (`DATABASE_URL_EMR_GATEWAY`…). */
const SERVICE_ENV_SUFFIX: Record<string, string> = {
  vault: 'VAULT',
  'emr-gateway': 'EMR_GATEWAY',
  'referral-intake': 'REFERRAL_INTAKE',
  scheduler: 'SCHEDULER',
  notifier: 'NOTIFIER',
};

export function stackStateDir(): string {
  const cache =
    process.env['CC_CACHE_DIR'] ??
    join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'cloud-connect');
  return process.env['CC_STATE_DIR'] ?? join(cache, 'stack');
}

/**
 * Where the real stack is: explicit environment variables win (e.g. a CI with Testcontainers or
 * external servers); otherwise the env file `deploy/local/stack.sh up` wrote.
 */
export function stackEnv(): StackEnv {
  const fromFile: Record<string, string> = {};
  const file = join(stackStateDir(), 'stack.env');
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const match = /^(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
      if (match?.[1] && match[2] !== undefined) fromFile[match[1]] = match[2].replace(/^['"]|['"]$/g, '');
    }
  }
  const result: Partial<StackEnv> = {};
  const missing: string[] = [];
  for (const key of KEYS) {
    const value = process.env[key] ?? fromFile[key];
    if (value) result[key] = value;
    else missing.push(key);
  }
  const serviceDatabaseUrls: Record<string, string> = {};
  for (const service of Object.keys(SERVICE_ENV_SUFFIX)) {
    const key = `DATABASE_URL_${SERVICE_ENV_SUFFIX[service]}`;
    const value = process.env[key] ?? fromFile[key];
    if (value) serviceDatabaseUrls[service] = value;
  }
  if (Object.keys(serviceDatabaseUrls).length > 0) result.serviceDatabaseUrls = serviceDatabaseUrls;
  const saslBrokers = process.env['KAFKA_SASL_BROKERS'] ?? fromFile['KAFKA_SASL_BROKERS'];
  if (saslBrokers) {
    const passwordFiles: Record<string, string> = {};
    for (const service of Object.keys(SERVICE_ENV_SUFFIX)) {
      const file = fromFile[`KAFKA_SASL_PASSWORD_FILE_${SERVICE_ENV_SUFFIX[service]}`];
      if (file) passwordFiles[service] = file;
    }
    result.kafkaSasl = { brokers: saslBrokers, passwordFiles };
  }
  if (missing.length > 0) {
    throw new Error(
      `the local stack is not up (missing ${missing.join(', ')}); run \`deploy/local/stack.sh up\` or set the variables`,
    );
  }
  return result as StackEnv;
}

/** Stops, starts or restarts one component of the local stack (tests of outages use this). */
export async function stackCtl(
  action: 'start' | 'stop' | 'restart',
  component: 'postgres' | 'kafka' | 'vault' | 'mail',
): Promise<void> {
  await run('bash', [join(REPO_ROOT, 'deploy', 'local', 'stack.sh'), action, component], {
    timeout: 180000,
    env: process.env,
  });
}

/** A fresh schema name, so tests never see each other's rows. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}
