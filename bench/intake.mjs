// Benchmark of eReferral intake: `npm run bench:intake` (needs the local stack up and a build).
// Starts referral-intake from the build against the local stack with a fresh schema, registers an
// integration through the CLI, starts the vault service (which encrypts every bundle under the
// site's SEK; the benchmark stores a random SEK for the site first), then posts realistic eReferral bundles (fresh ids each, so every
// post is a durable insert + outbox row) at several concurrencies over loopback, for a bounded
// time each. Prints bundles/s, p50/p95/p99 latency, the service's CPU and RSS. Prints numbers; it
// does not pass or fail.
//   BENCH_SECONDS (default 10) per level, BENCH_CONCURRENCY (default 1,8,32,64).
import http from 'node:http';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { fromBuild, startBenchStack, usage } from './harness.mjs';

const require = createRequire(import.meta.url);
const fixtures = fromBuild('services/referral-intake/src/fixtures/ereferral-bundles.js');
const { Client } = require('pg');

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const levels = (process.env.BENCH_CONCURRENCY ?? '1,8,32,64').split(',').map(Number);
const site = '9001';
const bench = await startBenchStack({ label: 'intake', site });
const { env, port, vault, schema } = bench;
const { apiKey } = bench.cli(['integration', 'create', '--site', site, '--name', 'bench']);
const service = bench.startIntake();
const db = new Client({ connectionString: env.DATABASE_URL });
await db.connect();

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
  await bench.waitIntakeReady();
  process.stderr.write(`bench: warming up (2 s)\n`);
  await level(8, 2000);
  const rows = [];
  for (const c of levels) {
    process.stderr.write(`bench: concurrency ${c} for ${seconds} s\n`);
    rows.push(await level(c, seconds * 1000));
  }
  const { rows: stored } = await db.query(`SELECT count(*)::int AS n FROM "${schema}".referrals`);
  console.log(
    `referral-intake benchmark: ${seconds}s per level, loopback, ${cpus().length} CPUs, node ${process.version}`,
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
  agent.destroy();
  await bench.stop(db);
  await db.end();
}
