// What the intake and OAuth benchmarks share: the build, the local stack's env, the vault service
// (with a random SEK stored for the benchmark's site, since bundles are encrypted under it) and
// referral-intake started from the build on fresh schemas, the admin CLI, and /proc sampling.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

export const root = resolve(new URL('..', import.meta.url).pathname);
export const dist = resolve(root, process.env.CC_DIST_DIR ?? 'dist');
const require = createRequire(import.meta.url);
/** A module of the build (`libs/...`, `services/...`), by its path under dist/. */
export const fromBuild = (path) => require(join(dist, path));
const {
  stackEnv,
  stackStateDir,
  freePort,
  uniqueName,
  waitFor,
  serviceEnvFor,
  provisionSiteSek,
  createUser,
  hasAuthenticator,
  totpCodeFor,
  TEST_SERVICE_AUTH_SECRET,
  testServicePublicKeys,
  testServiceSigningKey,
} = fromBuild('libs/testing/src/index.js');

/** What services/referral-intake/Dockerfile sets for intake (docs/performance.md, Memory). */
const INTAKE_NODE_OPTIONS = '--max-semi-space-size=8';
const INTAKE_MALLOC_ARENA_MAX = '2';

const ready = (url) => async () => (await fetch(`${url}/health/ready`).catch(() => ({ ok: false }))).ok;

/** CPU seconds (user + system) and resident memory of a process, from /proc. */
export function usage(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime, in clock ticks (100/s)
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  return { cpuSeconds: ticks / 100, rss };
}

/**
 * CPU seconds of a process and its children (Postgres: the postmaster, its live backends, and
 * what its exited children used), from /proc.
 */
export function treeCpuSeconds(pid) {
  const fields = (p) => readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
  const own = fields(pid);
  // utime + stime + cutime + cstime of the parent (waited-for children included)
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const f = fields(entry);
      if (Number(f[1]) === pid) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // the process exited meanwhile
    }
  }
  return ticks / 100;
}

/** The local stack's Postgres and Kafka process ids (from its run/ directory), when readable. */
export function stackPids() {
  const read = (name) => {
    try {
      const pid = Number(readFileSync(join(stackStateDir(), 'run', `${name}.pid`), 'utf8').trim());
      readFileSync(`/proc/${pid}/stat`);
      return pid;
    } catch {
      return undefined;
    }
  };
  return { postgres: read('postgres'), kafka: read('kafka') };
}

/**
 * Starts a service of the build on `port` (NODE_ENV=test, warnings only), configured for the
 * local stack `env` as the integration tests configure it, plus `overrides`.
 */
export function spawnService(name, port, env, overrides) {
  return spawn(process.execPath, [join(dist, `services/${name}/src/main.js`)], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      ...serviceEnvFor(name, env, overrides),
      PORT: String(port),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Creates an EMR of `type` in the simulator at `simUrl`, seeded as `seed` says; returns its summary. */
export async function createSimInstance(simUrl, type, seed) {
  const response = await fetch(`${simUrl}/_sim/instances`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type, seed }),
  });
  return response.json();
}

/**
 * Starts the vault service on a fresh schema and stores an SEK for `site`; returns what a
 * benchmark needs to start referral-intake next to it (after any CLI set-up of its own).
 */
export async function startBenchStack({ label, site }) {
  const env = stackEnv();
  const schema = uniqueName(`bench_${label}`);
  const vaultSchema = `${schema}_vault`;
  const vaultPort = await freePort();
  const vaultUrl = `http://127.0.0.1:${vaultPort}`;
  const vault = spawn(process.execPath, [join(dist, 'services/vault/src/main.js')], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      ...serviceEnvFor('vault', env, { DATABASE_SCHEMA: vaultSchema }),
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      PORT: String(vaultPort),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitFor('vault service ready', ready(vaultUrl), { timeoutMs: 90000, intervalMs: 250 });
  const provisioned = await provisionSiteSek({ vaultUrl, site });
  const port = await freePort();
  const processes = [vault];
  const cliConfig = mkdtempSync(join(tmpdir(), 'bench-cli-'));
  let cliSignedIn = false;

  return {
    env,
    schema,
    vault,
    vaultUrl,
    /** A fresh access token of the site admin who stored the SEK. */
    adminToken: () => provisioned.adminToken(),
    port,
    base: `http://127.0.0.1:${port}`,
    /**
     * The admin CLI against the benchmark's services (referral-intake must be ready), signed in
     * as a site admin of `site` made for it; its JSON answer.
     */
    async cli(args) {
      const cliEnv = {
        PATH: process.env.PATH,
        XDG_CONFIG_HOME: cliConfig,
        CC_VAULT_SERVICE_URL: vaultUrl,
        REFERRAL_INTAKE_URL: `http://127.0.0.1:${port}`,
      };
      const run = (argv, input) =>
        execFileSync(process.execPath, [join(dist, 'tools/cli/src/main.js'), ...argv], {
          env: cliEnv,
          ...(input === undefined ? {} : { input }),
        }).toString();
      if (!cliSignedIn) {
        const email = `bench-cli-${label}-${site}@test.invalid`;
        const password = randomBytes(18).toString('base64url');
        await createUser({ vaultUrl, email, password, siteNumber: site });
        // Site admins sign in with their second factor (the user's authenticator is set up by createUser).
        const code = hasAuthenticator(email) ? ['--code', await totpCodeFor(email)] : [];
        run(['login', '--email', email, ...code], `${password}\n`);
        cliSignedIn = true;
      }
      return JSON.parse(run(args));
    },
    /** Starts referral-intake (rate limits out of the way; admin routes are not benchmarked). */
    startIntake(extraEnv = {}) {
      const service = spawn(process.execPath, [join(dist, 'services/referral-intake/src/main.js')], {
        cwd: root,
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'development',
          LOG_LEVEL: 'warn',
          PORT: String(port),
          DATABASE_URL: env.DATABASE_URL,
          DATABASE_SCHEMA: schema,
          DATABASE_POOL_SIZE: '20',
          KAFKA_BROKERS: env.KAFKA_BROKERS,
          KAFKA_CLIENT_ID: `bench-${label}`,
          SERVICE_AUTH_SECRET: TEST_SERVICE_AUTH_SECRET,
          SERVICE_SIGNING_KEY: testServiceSigningKey('referral-intake'),
          SERVICE_PUBLIC_KEYS: testServicePublicKeys(),
          VAULT_SERVICE_URL: vaultUrl,
          VAULT_ADDR: env.VAULT_ADDR,
          VAULT_TOKEN: env.VAULT_TOKEN,
          // Admin routes (set-up through the CLI) verify the vault service's tokens.
          ADMIN_JWKS_URL: `${vaultUrl}/.well-known/jwks.json`,
          INTAKE_RATE_LIMIT_PER_SECOND: '1000000',
          INTAKE_RATE_LIMIT_BURST: '1000000',
          // e.g. --cpu-prof --cpu-prof-dir=/tmp/prof: where intake's time goes during a run.
          // Intake's memory settings as its image runs it (services/referral-intake/Dockerfile),
          // then BENCH_INTAKE_NODE_OPTIONS (later flags win).
          NODE_OPTIONS: [INTAKE_NODE_OPTIONS, process.env.BENCH_INTAKE_NODE_OPTIONS ?? ''].join(' ').trim(),
          MALLOC_ARENA_MAX: process.env.BENCH_INTAKE_MALLOC_ARENA_MAX ?? INTAKE_MALLOC_ARENA_MAX,
          ...extraEnv,
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      processes.push(service);
      return service;
    },
    waitIntakeReady: () =>
      waitFor('referral-intake ready', ready(`http://127.0.0.1:${port}`), {
        timeoutMs: 90000,
        intervalMs: 250,
      }),
    /** Stops what it started and drops its schemas. */
    async stop(db) {
      for (const p of processes) p.kill('SIGTERM');
      await Promise.all(
        processes.map((p) => new Promise((r) => (p.exitCode !== null ? r() : p.once('exit', r)))),
      );
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.query(`DROP SCHEMA IF EXISTS "${vaultSchema}" CASCADE`);
    },
  };
}
