// Benchmark of the EMR gateway: `npm run bench:emr` (needs the local stack up and a build).
// Starts the EMR simulator in this process and emr-gateway from the build (fresh schema), then:
//   sync      a full sync of BENCH_APPOINTMENTS (default 10,000) appointments: 10 providers, one day
//   commands  BENCH_COMMANDS (default 2,000) progress notes over 50 patients, produced to Kafka at
//             once; commands/s to the simulator and the latency from the envelope's occurredAt to
//             the command's applied_at (p50/p95/p99)
// Prints numbers; it does not pass or fail.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { createSimInstance, dist, spawnService } from './harness.mjs';

const require = createRequire(import.meta.url);
const {
  stackEnv,
  freePort,
  uniqueName,
  waitFor,
  createUser,
  registerSite,
  signIn,
  storeSiteSek,
  testServiceKeys,
} = require(join(dist, 'libs/testing/src/index.js'));
const { startEmrSimulator } = require(join(dist, 'tools/emr-simulator/src/server.js'));
const { VaultCommandCipher } = require(join(dist, 'services/emr-gateway/src/commands/phi-cipher.js'));
const { VaultPhiCipher } = require(join(dist, 'libs/phi-client/src/index.js'));
const { ServiceTokenIssuer } = require(join(dist, 'libs/auth/src/index.js'));
// Consumers accept an event only from a producer its catalogue entry lists (cc-producer header).
const AS_GATEWAY = { 'cc-producer': 'emr-gateway' };
const { Events, PRODUCT_EVENTS } = require(join(dist, 'libs/contracts/src/index.js'));
const { EventRegistry } = require(join(dist, 'libs/kafka/src/index.js'));
const { Kafka, logLevel } = require('kafkajs');
const { Client } = require('pg');

const appointmentsWanted = Number(process.env.BENCH_APPOINTMENTS ?? 10000);
const commandCount = Number(process.env.BENCH_COMMANDS ?? 2000);
const env = stackEnv();
const schema = uniqueName('bench_emr');
const site = String(100000000 + Math.floor(Math.random() * 899999999));
const registry = new EventRegistry(PRODUCT_EVENTS);

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const say = (line) => process.stdout.write(`${line}\n`);

const sim = await startEmrSimulator();
// The vault service signs the admin token the gateway's admin API requires.
const vaultPort = await freePort();
const vault = spawnService('vault', vaultPort, env, { DATABASE_SCHEMA: `${schema}_vault` });
const vaultUrl = `http://127.0.0.1:${vaultPort}`;
// Command content is sealed as a producer does: through the vault service, under the site's SEK.
const cipher = new VaultCommandCipher(
  new VaultPhiCipher({
    baseUrl: vaultUrl,
    tokens: new ServiceTokenIssuer('emr-gateway', testServiceKeys('emr-gateway')),
  }),
);
const port = await freePort();
const child = spawnService('emr-gateway', port, env, {
  DATABASE_SCHEMA: schema,
  ADMIN_JWKS_URL: `${vaultUrl}/.well-known/jwks.json`,
  VAULT_SERVICE_URL: vaultUrl,
  EMR_TELUS_API_URL: `${sim.url}/telus/v1`,
  EMR_ACCURO_API_URL: `${sim.url}/accuro`,
  EMR_DISPATCH_INTERVAL_MS: '50',
  EMR_DISPATCH_CONCURRENCY: '16',
});
const url = `http://127.0.0.1:${port}`;
const db = new Client({ connectionString: env.DATABASE_URL });
await db.connect();
const kafka = new Kafka({
  clientId: 'bench-emr',
  brokers: env.KAFKA_BROKERS.split(','),
  logLevel: logLevel.NOTHING,
});
const producer = kafka.producer();
await producer.connect();

try {
  const ready = (u) => async () =>
    (await fetch(`${u}/health/ready`).catch(() => ({ status: 0 }))).status === 200;
  await waitFor('vault ready', ready(vaultUrl), { timeoutMs: 90000 });
  await waitFor('emr-gateway ready', ready(url), { timeoutMs: 90000 });
  await registerSite(vaultUrl, { siteNumber: site, name: 'Bench', adminEmail: 'b@clinic.ca' });
  const password = 'correct horse battery staple 42';
  await createUser({
    vaultUrl,
    email: 'bench@clinic.ca',
    password,
    siteNumber: site,
  });
  const token = await signIn(vaultUrl, 'bench@clinic.ca', password);
  await storeSiteSek(vaultUrl, token, site);
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Toronto' }).format(new Date());
  const providers = 10;
  const created = await createSimInstance(sim.url, 'accuro', {
    providers,
    patients: 50,
    appointmentsPerDay: Math.ceil(appointmentsWanted / providers),
    days: 1,
    startDate: today,
  });
  const c = created.credentials;
  const connect = await fetch(`${url}/admin/sites/${site}/emr`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      type: 'accuro',
      tenant: c.tenant,
      clientId: c.clientId,
      clientSecret: c.clientSecret,
    }),
  });
  if (connect.status !== 200) throw new Error(`connect failed: ${await connect.text()}`);

  // --- sync
  const syncOf = async () =>
    (await db.query(`SELECT * FROM "${schema}".emr_sync_status WHERE site_number = $1`, [site])).rows[0];
  const requestId = randomUUID();
  const t0 = performance.now();
  const envelope = registry.create(Events.syncRequested, site, {
    requestId,
    scope: 'full',
    requestedBy: 'bench',
  });
  await producer.send({
    topic: envelope.type,
    messages: [{ key: site, value: JSON.stringify(envelope), headers: AS_GATEWAY }],
  });
  const done = await waitFor(
    'sync',
    async () => {
      const row = await syncOf();
      return row?.last_request_id === requestId && row.state === 'idle' ? row : null;
    },
    { timeoutMs: 120000, intervalMs: 20 },
  );
  const syncMs = performance.now() - t0;
  say(
    `sync full: ${done.last_appointments} appointments from ${providers} providers in ${(syncMs / 1000).toFixed(2)} s (request on Kafka -> status recorded)`,
  );

  // --- commands
  const patients = created.counts.patients;
  const data = await (await fetch(`${sim.url}/_sim/instances/${created.id}/data`)).json();
  const messages = [];
  for (let i = 0; i < commandCount; i += 1) {
    const p = data.patients[i % patients];
    const commandId = randomUUID();
    const sealed = await cipher.seal(
      site,
      commandId,
      Buffer.from(JSON.stringify({ patient: { healthNumber: p.healthNumber }, text: `bench note ${i}` })),
    );
    const e = registry.create(Events.emrCommand, site, {
      commandId,
      kind: 'save-progress-note',
      patientKey: `p-${p.id}`,
      sealed,
    });
    messages.push({ key: site, value: JSON.stringify(e), headers: AS_GATEWAY });
  }
  const c0 = performance.now();
  for (let i = 0; i < messages.length; i += 500)
    await producer.send({ topic: 'emr.command', messages: messages.slice(i, i + 500) });
  await waitFor(
    'commands applied',
    async () => {
      const { rows } = await db.query(
        `SELECT count(*)::int AS n FROM "${schema}".emr_commands WHERE status = 'applied'`,
      );
      return rows[0].n >= commandCount;
    },
    { timeoutMs: 600000, intervalMs: 100 },
  );
  const wall = (performance.now() - c0) / 1000;
  const { rows } = await db.query(
    `SELECT EXTRACT(EPOCH FROM applied_at - occurred_at) * 1000 AS ms FROM "${schema}".emr_commands WHERE status = 'applied'`,
  );
  const lat = rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
  const notes = (await (await fetch(`${sim.url}/_sim/instances/${created.id}`)).json()).counts.notes;
  say(
    `commands: ${commandCount} progress notes (50 patients) in ${wall.toFixed(2)} s = ${(commandCount / wall).toFixed(0)} commands/s; notes in the simulator's charts: ${notes}`,
  );
  say(
    `  latency occurredAt -> applied (ms, includes queueing behind the burst): p50 ${pct(lat, 50).toFixed(0)}  p95 ${pct(lat, 95).toFixed(0)}  p99 ${pct(lat, 99).toFixed(0)}`,
  );

  // --- steady trickle: one command at a time, end-to-end latency without a backlog
  const single = [];
  for (let i = 0; i < 100; i += 1) {
    const p = data.patients[i % patients];
    const commandId = randomUUID();
    const sealed = await cipher.seal(
      site,
      commandId,
      Buffer.from(JSON.stringify({ patient: { healthNumber: p.healthNumber }, text: `single ${i}` })),
    );
    const e = registry.create(Events.emrCommand, site, {
      commandId,
      kind: 'save-progress-note',
      patientKey: `p-${p.id}`,
      sealed,
    });
    const s0 = performance.now();
    await producer.send({
      topic: 'emr.command',
      messages: [{ key: site, value: JSON.stringify(e), headers: AS_GATEWAY }],
    });
    await waitFor(
      'applied',
      async () =>
        (
          await db.query(
            `SELECT 1 FROM "${schema}".emr_commands WHERE command_id = $1 AND status = 'applied'`,
            [commandId],
          )
        ).rows.length > 0,
      { timeoutMs: 30000, intervalMs: 5 },
    );
    single.push(performance.now() - s0);
  }
  single.sort((a, b) => a - b);
  say(
    `  one at a time (100 commands, Kafka -> chart, ms): p50 ${pct(single, 50).toFixed(0)}  p95 ${pct(single, 95).toFixed(0)}  p99 ${pct(single, 99).toFixed(0)}`,
  );
} finally {
  child.kill('SIGTERM');
  vault.kill('SIGTERM');
  await Promise.all([new Promise((r) => child.once('exit', r)), new Promise((r) => vault.once('exit', r))]);
  await producer.disconnect();
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db.query(`DROP SCHEMA IF EXISTS "${schema}_vault" CASCADE`);
  await db.end();
  await sim.close();
}
