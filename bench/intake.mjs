// Benchmark of eReferral intake: `npm run bench:intake` (needs the local stack up and a build).
// Starts the vault service (with a random SEK stored for the site) and referral-intake from the
// build on fresh schemas, registers an integration through the CLI, then posts eReferral bundles
// over loopback keep-alive connections, each with fresh Bundle.id and MessageHeader.id (so every
// post is a durable insert + outbox row, `synchronous_commit=on`), per mode and concurrency: a
// warm-up, then a measured run. Prints JSON and a table: bundles/s, p50/p95/p99, CPU ms per
// bundle of intake, the vault service, Postgres and Kafka, intake's peak RSS. It does not pass
// or fail.
//   Every new referral also gets a fresh ServiceRequest identifier (no echo-rule shortcut); the
//   stored count at the end shows it.
//   BENCH_SECONDS [30] measured per level, BENCH_WARMUP_SECONDS [10] before each level,
//   BENCH_CONCURRENCY [1,8,32,64], BENCH_MODES [same,mixed]:
//     same  = the typical bundle (add-service-request with a PDF attachment, ≈ 4 KB), fresh ids;
//     mixed = small (status and quirks messages, ≈ 2 KB) 10 : typical 9 : 1 MB with attachments 1.
//   BENCH_JSON=<file> also writes the JSON there. Intake runs with its image's memory settings
//   (NODE_OPTIONS=--max-semi-space-size=8, MALLOC_ARENA_MAX=2); BENCH_INTAKE_NODE_OPTIONS is added
//   to its NODE_OPTIONS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` for a CPU profile written when
//   it stops), BENCH_INTAKE_MALLOC_ARENA_MAX replaces its MALLOC_ARENA_MAX.
import http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { fromBuild, stackPids, startBenchStack, treeCpuSeconds, usage } from './harness.mjs';

const require = createRequire(import.meta.url);
const fixtures = fromBuild('libs/testing/src/fixtures/ereferral-bundles.js');
const { Client } = require('pg');

const seconds = Number(process.env.BENCH_SECONDS ?? 30);
const warmup = Number(process.env.BENCH_WARMUP_SECONDS ?? 10);
const levels = (process.env.BENCH_CONCURRENCY ?? '1,8,32,64').split(',').map(Number);
const modes = (process.env.BENCH_MODES ?? 'same,mixed').split(',');
const site = '9001';

/**
 * A bundle as a string template with fresh ids per post: Bundle.id, MessageHeader.id and, for a
 * new referral, its ServiceRequest identifier's value (else the echo rule would answer every post
 * after the first as a copy of the same referral, and nothing more would be stored).
 */
function template(bundle) {
  const b = structuredClone(bundle);
  const fresh = '@@FRESH_ID@@';
  b.id = fresh;
  b.entry[0].resource.id = fresh;
  if (['add-service-request', 'notify-add-service-request'].includes(b.entry[0].resource.eventCoding?.code)) {
    for (const e of b.entry) {
      if (e.resource.resourceType !== 'ServiceRequest') continue;
      for (const identifier of e.resource.identifier ?? []) identifier.value = fresh;
    }
  }
  const parts = JSON.stringify(b).split(`"${fresh}"`);
  return () => parts.reduce((out, part, i) => (i === 0 ? part : `${out}"${randomUUID()}"${part}`), '');
}

/** The typical bundle with ≈ 1 MB of attachments (four PDFs of ≈ 190 KB raw each, base64). */
function oneMegabyte() {
  const b = fixtures.addServiceRequestWithAttachment();
  const doc = b.entry.find((e) => e.resource.resourceType === 'DocumentReference').resource;
  const pdf = (n) => ({
    attachment: {
      contentType: 'application/pdf',
      title: `scan-${n}.pdf`,
      data: Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(190_000)]).toString('base64'),
    },
  });
  doc.content = [pdf(1), pdf(2), pdf(3), pdf(4)];
  return b;
}

const typical = template(fixtures.addServiceRequestWithAttachment());
const corpora = {
  same: [typical],
  mixed: [
    ...Array(5).fill(template(fixtures.notifyUpdateStatus())),
    ...Array(5).fill(template(fixtures.addServiceRequestWithQuirks())),
    ...Array(9).fill(typical),
    template(oneMegabyte()),
  ],
};

const bench = await startBenchStack({ label: 'intake', site });
const { env, port, vault, schema } = bench;
const service = bench.startIntake();
await bench.waitIntakeReady();
const { apiKey } = await bench.cli(['integration', 'create', '--site', site, '--name', 'bench']);
const db = new Client({ connectionString: env.DATABASE_URL });
await db.connect();
const stack = stackPids();

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
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

function cpuNow() {
  return {
    intake: usage(service.pid).cpuSeconds,
    vault: usage(vault.pid).cpuSeconds,
    postgres: stack.postgres ? treeCpuSeconds(stack.postgres) : NaN,
    kafka: stack.kafka ? usage(stack.kafka).cpuSeconds : NaN,
    client: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
  };
}

async function run(corpus, concurrency, durationMs) {
  const latencies = [];
  const statuses = new Map();
  const deadline = Date.now() + durationMs;
  let n = 0;
  let bytes = 0;
  const before = cpuNow();
  const t0 = process.hrtime.bigint();
  let peakRss = usage(service.pid).rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, usage(service.pid).rss)), 250);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const body = corpus[n++ % corpus.length]();
        bytes += body.length;
        const { status, ms } = await post(body);
        latencies.push(ms);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  clearInterval(sampler);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = cpuNow();
  latencies.sort((a, b) => a - b);
  const pct = (p) =>
    Number(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(1));
  const ok = statuses.get(200) ?? 0;
  const perBundle = (k) => Number((((after[k] - before[k]) * 1000) / Math.max(1, ok)).toFixed(2));
  return {
    concurrency,
    bundlesPerSecond: Math.round(ok / wall),
    p50Ms: pct(50),
    p95Ms: pct(95),
    p99Ms: pct(99),
    cpuMsPerBundle: {
      intake: perBundle('intake'),
      vaultService: perBundle('vault'),
      postgres: perBundle('postgres'),
      kafka: perBundle('kafka'),
      loadGenerator: perBundle('client'),
    },
    intakeCores: Number(((after.intake - before.intake) / wall).toFixed(2)),
    peakRssMb: Math.round(peakRss / 1e6),
    averageBodyKb: Math.round(bytes / Math.max(1, latencies.length) / 1024),
    statuses: Object.fromEntries(statuses),
    loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
  };
}

try {
  await bench.waitIntakeReady();
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg().map((l) => Number(l.toFixed(2)));
  const results = [];
  for (const mode of modes) {
    for (const c of levels) {
      process.stderr.write(`bench: ${mode} c=${c}: warm-up ${warmup} s, then ${seconds} s\n`);
      if (warmup > 0) await run(corpora[mode], c, warmup * 1000);
      results.push({ mode, ...(await run(corpora[mode], c, seconds * 1000)) });
    }
  }
  const { rows: stored } = await db.query(`SELECT count(*)::int AS n FROM "${schema}".referrals`);
  const report = {
    benchmark: 'referral-intake',
    startedAt,
    finishedAt: new Date().toISOString(),
    seconds,
    warmupSeconds: warmup,
    cpus: cpus().length,
    node: process.version,
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: loadavg().map((l) => Number(l.toFixed(2))),
    intakeRssAtEndMb: Math.round(usage(service.pid).rss / 1e6),
    referralsStored: stored[0].n,
    results,
  };
  console.log(JSON.stringify(report, null, 2));
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(report, null, 2));
  console.log(
    `referral-intake benchmark: ${seconds} s per level after ${warmup} s warm-up, loopback, ${cpus().length} CPUs, load average ${report.loadAverageAtStart.join(' ')} → ${report.loadAverageAtEnd.join(' ')}`,
  );
  console.table(
    results.map((r) => ({
      mode: r.mode,
      c: r.concurrency,
      'bundles/s': r.bundlesPerSecond,
      'p50 ms': r.p50Ms,
      'p95 ms': r.p95Ms,
      'p99 ms': r.p99Ms,
      'intake ms/b': r.cpuMsPerBundle.intake,
      'vault svc ms/b': r.cpuMsPerBundle.vaultService,
      'postgres ms/b': r.cpuMsPerBundle.postgres,
      'kafka ms/b': r.cpuMsPerBundle.kafka,
      'peak RSS MB': r.peakRssMb,
      non200:
        Object.entries(r.statuses)
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
