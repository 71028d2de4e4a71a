// Benchmark of post -> chart: `npm run bench:chart` (needs the local stack up and a build).
// eReferrals (questionnaire + PDF attachment) are posted to referral-intake at 10, 50 and 100
// bundles/s (BENCH_RATES, comma list) for BENCH_SECONDS each (default 60); emr-gateway reads each
// one, renders its PDF, matches the patient and files it in the simulated PS Suite chart. Latency
// is from the moment the post is sent to the moment the simulator filed the document (same
// process, same clock): p50/p95/p99, plus what was reached and the CPU and memory of the services,
// and where the time went (from the services' own timestamps, same Postgres clock): intake's
// outbox row -> published to Kafka (relay), intake's receipt -> the gateway's queue row (relay,
// Kafka, consumer), queue row -> the write sent to the EMR (reading the referral, PDF, sealing,
// waiting for a dispatcher slot), write sent -> recorded applied (the EMR write and the commit).
// Prints numbers; it does not pass or fail.
import { loadavg } from 'node:os';
import { Client } from 'pg';
import { createSimInstance, fromBuild, spawnService, startBenchStack, usage } from './harness.mjs';

const { freePort, waitFor } = fromBuild('libs/testing/src/index.js');
const { startEmrSimulator } = fromBuild('tools/emr-simulator/src/server.js');
const { addServiceRequestWithAttachment } = fromBuild('libs/testing/src/fixtures/ereferral-bundles.js');

const rates = (process.env.BENCH_RATES ?? '10,50,100').split(',').map(Number);
const seconds = Number(process.env.BENCH_SECONDS ?? 60);
const site = String(100000000 + Math.floor(Math.random() * 899999999));
const say = (line) => process.stdout.write(`${line}\n`);
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const stack = await startBenchStack({ label: 'chart', site });
const db = new Client({ connectionString: stack.env.DATABASE_URL });
await db.connect();
const sim = await startEmrSimulator();
const intake = stack.startIntake();
const gatewayPort = await freePort();
const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
const gateway = spawnService('emr-gateway', gatewayPort, stack.env, {
  DATABASE_SCHEMA: `${stack.schema}_gw`,
  ADMIN_JWKS_URL: `${stack.vaultUrl}/.well-known/jwks.json`,
  VAULT_SERVICE_URL: stack.vaultUrl,
  REFERRAL_INTAKE_URL: stack.base,
  EMR_TELUS_API_URL: `${sim.url}/telus/v1`,
  EMR_DISPATCH_INTERVAL_MS: '20',
  EMR_DISPATCH_CONCURRENCY: '16',
});

try {
  await stack.waitIntakeReady();
  await waitFor(
    'emr-gateway ready',
    async () => (await fetch(`${gatewayUrl}/health/ready`).catch(() => ({ ok: false }))).ok,
    { timeoutMs: 90000, intervalMs: 250 },
  );
  const key = `bench-chart-${site}-key-0123456789`;
  await stack.cli(['integration', 'create', '--site', site, '--name', 'Bench CHR', '--key', key]);
  const created = await createSimInstance(sim.url, 'ps-suite', {
    patients: 50,
    providers: 2,
    appointmentsPerDay: 1,
    days: 1,
  });
  const admin = async (method, path, body) => {
    const r = await fetch(`${gatewayUrl}/admin/sites/${site}/emr${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await stack.adminToken()}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  await admin('PUT', '', {
    type: 'ps-suite',
    instanceId: created.credentials.instanceId,
    secret: created.credentials.secret,
  });
  const current = await admin('GET', '/settings');
  await admin('PUT', '/settings', {
    settings: { ...current.settings, importAttachmentsAsPdf: true },
    expectedVersion: current.version,
  });
  const { patients } = await (await fetch(`${sim.url}/_sim/instances/${created.id}/data`)).json();

  /** A bundle whose document title is unique (`eReferral - bench-<n>`), for the patient n. */
  const bundleFor = (n) => {
    const bundle = addServiceRequestWithAttachment();
    const p = patients[n % patients.length];
    for (const { resource } of bundle.entry) {
      if (resource.resourceType === 'Patient') {
        resource.identifier = [
          {
            system: 'https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn',
            value: p.healthNumber,
          },
        ];
        resource.birthDate = p.birthDate;
      }
      if (resource.resourceType === 'ServiceRequest') resource.category = [{ text: `bench-${n}` }];
    }
    return JSON.stringify(bundle);
  };
  const post = (body) =>
    fetch(`${stack.base}/public/ocean/fhir_bundles`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', 'Referral-Integration-API-Key': key },
      body,
    }).then(
      async (r) => {
        await r.text();
        return r.status;
      },
      // No answer (intake saturated): counted as status 0, and its document is not waited for.
      () => 0,
    );

  /** p50 / p99 of each stage of the documents whose referral intake received since `since`. */
  const stagesSince = async (since) => {
    const ms = (a, b) => `(extract(epoch from (${b} - ${a})) * 1000)::int`;
    const relay = await db.query(
      `SELECT ${ms('created_at', 'published_at')} AS ms FROM "${stack.schema}".outbox
       WHERE topic = 'referral.received' AND created_at >= $1 AND published_at IS NOT NULL`,
      [since],
    );
    const queue = await db.query(
      `SELECT ${ms('occurred_at', 'received_at')} AS consumed, ${ms('received_at', 'write_started_at')} AS prepared,
              ${ms('write_started_at', 'applied_at')} AS written
       FROM "${stack.schema}_gw".emr_commands
       WHERE kind = 'attach-pdf' AND status = 'applied' AND occurred_at >= $1`,
      [since],
    );
    const line = (name, values) => {
      const sorted = values.filter((v) => v !== null).sort((a, b) => a - b);
      return sorted.length ? `${name} ${pct(sorted, 50)} / ${pct(sorted, 99)}` : `${name} -`;
    };
    const stages = {
      'outbox -> Kafka': relay.rows.map((r) => r.ms),
      'intake -> gateway queue': queue.rows.map((r) => r.consumed),
      'queue -> write sent': queue.rows.map((r) => r.prepared),
      'write -> applied': queue.rows.map((r) => r.written),
    };
    return Object.entries(stages)
      .map(([name, values]) => line(name, values))
      .join('; ');
  };

  // Warm-up (JIT, pools, the consumer group's assignment).
  let n = 0;
  const sentAt = new Map();
  for (let i = 0; i < 5; i += 1) {
    sentAt.set(`bench-${n}`, Date.now());
    await post(bundleFor(n++));
  }
  const filed = async () => {
    const data = await (await fetch(`${sim.url}/_sim/instances/${created.id}/data`)).json();
    return new Map(
      data.documents.map((d) => [d.title.replace(/^eReferral - /, ''), Date.parse(d.createdAt)]),
    );
  };
  await waitFor('warm-up in the chart', async () => (await filed()).size >= 5, {
    timeoutMs: 120000,
    intervalMs: 200,
  });

  say(`post -> chart (PS Suite simulator), ${seconds} s per rate, site ${site}`);
  for (const rate of rates) {
    const first = n;
    const statuses = new Map();
    const accepted = new Set();
    const cpu0 = [intake.pid, gateway.pid].map((pid) => usage(pid).cpuSeconds);
    const t0 = Date.now();
    const inFlight = [];
    for (let i = 0; i < rate * seconds; i += 1) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const id = n++;
      const body = bundleFor(id);
      sentAt.set(`bench-${id}`, Date.now());
      inFlight.push(
        post(body).then((s) => {
          statuses.set(s, (statuses.get(s) ?? 0) + 1);
          if (s === 200) accepted.add(`bench-${id}`);
        }),
      );
    }
    await Promise.all(inFlight);
    const sendSeconds = (Date.now() - t0) / 1000;
    const wanted = [...Array(n - first).keys()]
      .map((i) => `bench-${first + i}`)
      .filter((w) => accepted.has(w));
    let docs = new Map();
    await waitFor(
      `${wanted.length} documents at ${rate}/s`,
      async () => {
        docs = await filed();
        return wanted.every((w) => docs.has(w));
      },
      { timeoutMs: 300000, intervalMs: 500 },
    ).catch(() => undefined);
    const latencies = wanted
      .filter((w) => docs.has(w))
      .map((w) => docs.get(w) - sentAt.get(w))
      .sort((a, b) => a - b);
    const cpu = [intake.pid, gateway.pid].map((pid, i) => usage(pid).cpuSeconds - cpu0[i]);
    const span = (Math.max(...wanted.filter((w) => docs.has(w)).map((w) => docs.get(w))) - t0) / 1000;
    const stages = await stagesSince(new Date(t0));
    say(
      `${String(rate).padStart(3)}/s: posted ${n - first} (${wanted.length} accepted) in ${sendSeconds.toFixed(1)} s (answers ${JSON.stringify(Object.fromEntries(statuses))}), ` +
        `filed ${latencies.length}; post -> chart p50 ${pct(latencies, 50)} ms, p95 ${pct(latencies, 95)} ms, p99 ${pct(latencies, 99)} ms, max ${latencies.at(-1)} ms; ` +
        `${(latencies.length / span).toFixed(1)} documents/s; CPU s intake ${cpu[0].toFixed(1)}, gateway ${cpu[1].toFixed(1)}; ` +
        `RSS MB intake ${(usage(intake.pid).rss / 1e6).toFixed(0)}, gateway ${(usage(gateway.pid).rss / 1e6).toFixed(0)}; ` +
        `load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
    );
    say(`       where the time went (p50 / p99 ms): ${stages}`);
  }
} finally {
  gateway.kill('SIGTERM');
  await new Promise((r) => (gateway.exitCode !== null ? r() : gateway.once('exit', r)));
  await sim.close();
  await stack.stop(db);
  await db.query(`DROP SCHEMA IF EXISTS "${stack.schema}_gw" CASCADE`);
  await db.end();
}
