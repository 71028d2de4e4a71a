// Benchmark of eReferral intake: `npm run bench:intake` (needs the local stack up and a build).
// Starts referral-intake from the build against the local stack with a fresh schema, registers an
// integration through the CLI, starts the vault service (which encrypts every bundle under the
// site's SEK; the benchmark stores a random SEK for the site first), then posts realistic eReferral bundles (fresh ids each, so every
// post is a durable insert + outbox row) at several concurrencies over loopback, for a bounded
// time each. Prints bundles/s, p50/p95/p99 latency, the service's CPU and RSS. Prints numbers; it
// does not pass or fail.
//   BENCH_SECONDS (default 10) per level, BENCH_CONCURRENCY (default 1,8,32,64).
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const dist = resolve(root, process.env.CC_DIST_DIR ?? 'dist');
const require = createRequire(import.meta.url);
const {
  stackEnv,
  freePort,
  uniqueName,
  waitFor,
  serviceEnvFor,
  provisionSiteSek,
  TEST_SERVICE_AUTH_SECRET,
} = require(join(dist, 'libs/testing/src/index.js'));
const fixtures = require(join(dist, 'services/referral-intake/src/fixtures/ereferral-bundles.js'));
const { Client } = require('pg');

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const levels = (process.env.BENCH_CONCURRENCY ?? '1,8,32,64').split(',').map(Number);
const env = stackEnv();
const schema = uniqueName('bench_intake');
const site = '9001';
const port = await freePort();
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
const ready = (url) => async () => (await fetch(`${url}/health/ready`).catch(() => ({ ok: false }))).ok;
await waitFor('vault service ready', ready(vaultUrl), { timeoutMs: 90000, intervalMs: 250 });
await provisionSiteSek({ vaultUrl, databaseUrl: env.DATABASE_URL, vaultSchema, site });

const cli = (args) =>
  JSON.parse(
    execFileSync(process.execPath, [join(dist, 'tools/cli/src/main.js'), ...args], {
      env: { PATH: process.env.PATH, DATABASE_URL: env.DATABASE_URL, INTAKE_DATABASE_SCHEMA: schema },
    }).toString(),
  );
const { apiKey } = cli(['integration', 'create', '--site', site, '--name', 'bench']);

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
    KAFKA_CLIENT_ID: 'bench-intake',
    SERVICE_AUTH_SECRET: TEST_SERVICE_AUTH_SECRET,
    VAULT_SERVICE_URL: vaultUrl,
    VAULT_ADDR: env.VAULT_ADDR,
    VAULT_TOKEN: env.VAULT_TOKEN,
    // Admin routes are not benchmarked; the JWKS is never fetched.
    ADMIN_JWKS_URL: 'http://127.0.0.1:9/.well-known/jwks.json',
    INTAKE_RATE_LIMIT_PER_SECOND: '1000000',
    INTAKE_RATE_LIMIT_BURST: '1000000',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const db = new Client({ connectionString: env.DATABASE_URL });
await db.connect();

function usage(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime, in clock ticks (100/s)
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  return { cpuSeconds: ticks / 100, rss };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const kinds = Object.values(fixtures.FIXTURES);
function post(body) {
  return new Promise((resolveRequest) => {
    const started = process.hrtime.bigint();
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/public/ocean/fhir_bundles',
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/fhir+json',
          'content-length': Buffer.byteLength(body),
          'referral-integration-api-key': apiKey,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolveRequest({ status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }),
        );
      },
    );
    req.on('error', () => resolveRequest({ status: 0, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    req.end(body);
  });
}

async function level(concurrency, durationMs) {
  const latencies = [];
  const statuses = new Map();
  const deadline = Date.now() + durationMs;
  let n = 0;
  const before = usage(service.pid);
  const vaultBefore = usage(vault.pid);
  const t0 = process.hrtime.bigint();
  let peakRss = before.rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, usage(service.pid).rss)), 250);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const body = JSON.stringify(kinds[n++ % kinds.length]());
        const { status, ms } = await post(body);
        latencies.push(ms);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  clearInterval(sampler);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = usage(service.pid);
  const vaultAfter = usage(vault.pid);
  latencies.sort((a, b) => a - b);
  const pct = (p) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(1);
  return {
    concurrency,
    'bundles/s': Math.round((statuses.get(200) ?? 0) / wall),
    'p50 ms': pct(50),
    'p95 ms': pct(95),
    'p99 ms': pct(99),
    'intake CPU (cores)': ((after.cpuSeconds - before.cpuSeconds) / wall).toFixed(2),
    'vault svc CPU': ((vaultAfter.cpuSeconds - vaultBefore.cpuSeconds) / wall).toFixed(2),
    'peak RSS MB': Math.round(peakRss / 1e6),
    statuses: Object.fromEntries(statuses),
  };
}

try {
  await waitFor('referral-intake ready', ready(`http://127.0.0.1:${port}`), {
    timeoutMs: 90000,
    intervalMs: 250,
  });
  process.stderr.write(`bench: warming up (2 s)\n`);
  await level(8, 2000);
  const rows = [];
  for (const c of levels) {
    process.stderr.write(`bench: concurrency ${c} for ${seconds} s\n`);
    rows.push(await level(c, seconds * 1000));
  }
  const { rows: stored } = await db.query(`SELECT count(*)::int AS n FROM "${schema}".referrals`);
  console.log(
    `referral-intake benchmark: ${seconds}s per level, loopback, ${(await import('node:os')).cpus().length} CPUs, node ${process.version}`,
  );
  console.table(
    rows.map(({ statuses, ...r }) => ({
      ...r,
      non200:
        Object.entries(statuses)
          .filter(([s]) => s !== '200')
          .map(([s, k]) => `${s}:${k}`)
          .join(' ') || '-',
    })),
  );
  console.log(`referrals stored durably: ${stored[0].n}`);
} finally {
  service.kill('SIGTERM');
  vault.kill('SIGTERM');
  await Promise.all([service, vault].map((p) => new Promise((r) => p.once('exit', r))));
  agent.destroy();
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db.query(`DROP SCHEMA IF EXISTS "${vaultSchema}" CASCADE`);
  await db.end();
}
