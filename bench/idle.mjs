// What the five services cost when nothing happens: `node bench/idle.mjs` (needs the local stack
// up and a build). Starts vault, referral-intake, emr-gateway, scheduler and notifier from the
// build on fresh schemas (each under its own Postgres role, with its Kafka consumers, outbox
// relays and schedules running), waits until all are ready and BENCH_SETTLE_SECONDS [15] more,
// then measures each process's CPU time over BENCH_SECONDS [60] from /proc and prints JSON and a
// table: per cent of one core, and CPU milliseconds per second. Prints numbers; it does not pass
// or fail. BENCH_JSON=<file> also writes the JSON there.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { dist, fromBuild, root, usage } from './harness.mjs';

const { freePort, serviceEnvFor, stackEnv, uniqueName, waitFor } = fromBuild('libs/testing/src/index.js');
const require = createRequire(import.meta.url);
const { Client } = require('pg');

const seconds = Number(process.env.BENCH_SECONDS ?? 60);
const settle = Number(process.env.BENCH_SETTLE_SECONDS ?? 15);
const env = stackEnv();
const base = uniqueName('bench_idle');
const names = ['vault', 'referral-intake', 'emr-gateway', 'scheduler', 'notifier'];
const schemas = Object.fromEntries(names.map((n) => [n, `${base}_${n.replace('-', '_')}`]));
const ports = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await freePort()])));
const url = (n) => `http://127.0.0.1:${ports[n]}`;
const processes = {};

for (const name of names) {
  processes[name] = spawn(process.execPath, [join(dist, `services/${name}/src/main.js`)], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      ...serviceEnvFor(name, env, {
        DATABASE_SCHEMA: schemas[name],
        VAULT_SERVICE_URL: url('vault'),
        ADMIN_JWKS_URL: `${url('vault')}/.well-known/jwks.json`,
      }),
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      PORT: String(ports[name]),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

const db = new Client({ connectionString: env.DATABASE_URL });
await db.connect();
try {
  for (const name of names) {
    await waitFor(
      `${name} ready`,
      async () => (await fetch(`${url(name)}/health/ready`).catch(() => ({ ok: false }))).ok,
      { timeoutMs: 120000, intervalMs: 250 },
    );
  }
  process.stderr.write(`bench: all five ready; settling ${settle} s, then measuring ${seconds} s\n`);
  await new Promise((r) => setTimeout(r, settle * 1000));
  const loadAtStart = loadavg().map((l) => Number(l.toFixed(2)));
  const before = Object.fromEntries(names.map((n) => [n, usage(processes[n].pid).cpuSeconds]));
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const results = names.map((name) => {
    const { cpuSeconds, rss } = usage(processes[name].pid);
    const used = cpuSeconds - before[name];
    return {
      service: name,
      percentOfCore: Number(((100 * used) / wall).toFixed(2)),
      cpuMsPerSecond: Number(((1000 * used) / wall).toFixed(1)),
      rssMb: Math.round(rss / 1e6),
    };
  });
  const report = {
    benchmark: 'idle services',
    startedAt: new Date(Date.now() - wall * 1000).toISOString(),
    seconds,
    cpus: cpus().length,
    node: process.version,
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: loadavg().map((l) => Number(l.toFixed(2))),
    results,
  };
  console.log(JSON.stringify(report, null, 2));
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(report, null, 2));
  console.log(
    `idle services: ${seconds} s after ${settle} s settling, CPU time from /proc (a tick is 10 ms), load average ${report.loadAverageAtStart.join(' ')} → ${report.loadAverageAtEnd.join(' ')}`,
  );
  console.table(results);
} finally {
  for (const child of Object.values(processes)) child.kill('SIGTERM');
  await Promise.all(
    Object.values(processes).map((p) => new Promise((r) => (p.exitCode !== null ? r() : p.once('exit', r)))),
  );
  for (const schema of Object.values(schemas)) await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db.end();
}
