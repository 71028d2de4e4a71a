// Benchmark of the scheduler: `node bench/scheduler.mjs` (needs the local stack up and a build).
// Starts the vault service, referral-intake, the scheduler and the notifier from the build on fresh
// schemas, then measures:
//   fire      the sync schedule's fire-time accuracy: BENCH_SLOTS (default 20) slots of a
//             BENCH_INTERVAL_MS (default 2000) recent-sync interval at the default tick; per slot
//             the lag from the slot (`scheduledFor`) to the fire (the envelope's `occurredAt`,
//             written in the transaction that fires it) and to its arrival on Kafka
//   reminder  booking to reminder with a 1-minute lead: BENCH_BOOKINGS (default 3) referrals
//             booked by status back for 75 s ahead, so each reminder is due 15 s after its
//             booking; the time from the booking's HTTP answer to the reminder in the SMTP sink,
//             and how late it came after its due time
// Prints numbers; it does not pass or fail.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { dist, fromBuild, root, startBenchStack } from './harness.mjs';

const { freePort, MailInbox, serviceEnvFor, uniqueName, waitFor } = fromBuild('libs/testing/src/index.js');
const { addServiceRequestWithQuirks, appointmentFor } = fromBuild(
  'libs/testing/src/fixtures/ereferral-bundles.js',
);
const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs');
const { Client } = require('pg');

const slots = Number(process.env.BENCH_SLOTS ?? 20);
const intervalMs = Number(process.env.BENCH_INTERVAL_MS ?? 2000);
const bookings = Number(process.env.BENCH_BOOKINGS ?? 3);
const site = String(100000000 + Math.floor(Math.random() * 899999999));
const stack = await startBenchStack({ label: 'sched', site });
const { env } = stack;
const schedSchema = uniqueName('bench_sched');
const notifySchema = uniqueName('bench_notify');
const processes = [];
const ready = (url) => async () => (await fetch(`${url}/health/ready`).catch(() => ({ ok: false }))).ok;

function startService(name, port, overrides) {
  const child = spawn(process.execPath, [join(dist, `services/${name}/src/main.js`)], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      ...serviceEnvFor(name, env, overrides),
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      PORT: String(port),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  processes.push(child);
  return `http://127.0.0.1:${port}`;
}

const copies = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200).end());
});
await new Promise((resolve) => copies.listen(0, '127.0.0.1', resolve));
// The copies' receiver listens on loopback, which intake's egress rules allow only when told.
const intake = stack.startIntake({ EGRESS_ALLOW_LOOPBACK: 'true' });
// On a failure too, nothing started here keeps running.
process.on('exit', () => {
  for (const p of [stack.vault, intake, ...processes]) if (p.exitCode === null) p.kill('SIGTERM');
});
await stack.waitIntakeReady();
const senderKey = (await stack.cli(['integration', 'create', '--site', site, '--name', 'Bench CHR'])).apiKey;
const receiverKey = (
  await stack.cli([
    'integration',
    'create',
    '--site',
    site,
    '--name',
    'Bench receiver',
    '--request-url',
    `http://127.0.0.1:${copies.address().port}/copies`,
    '--outbound-key',
    randomBytes(24).toString('base64url'),
    '--send-copies',
  ])
).apiKey;

const scheduler = startService('scheduler', await freePort(), {
  DATABASE_SCHEMA: schedSchema,
  ADMIN_JWKS_URL: `${stack.vaultUrl}/.well-known/jwks.json`,
  SYNC_RECENT_INTERVAL_MS: String(intervalMs),
});
startService('notifier', await freePort(), {
  DATABASE_SCHEMA: notifySchema,
  VAULT_SERVICE_URL: stack.vaultUrl,
});
await waitFor('scheduler ready', ready(scheduler), { timeoutMs: 120000, intervalMs: 250 });

// ---- fire-time accuracy of the sync schedule
const kafka = new Kafka({
  clientId: `bench-sched-${randomUUID()}`,
  brokers: env.KAFKA_BROKERS.split(','),
  logLevel: logLevel.NOTHING,
});
const consumer = kafka.consumer({ groupId: `bench-sched-${randomUUID()}` });
await consumer.connect();
await consumer.subscribe({ topics: ['sync.requested'], fromBeginning: true });
const fired = [];
await consumer.run({
  eachMessage: async ({ message }) => {
    const envelope = JSON.parse(message.value.toString());
    if (envelope.siteId !== site || envelope.payload.requestedBy !== 'scheduler:sync-recent') return;
    fired.push({
      scheduledFor: Date.parse(envelope.payload.scheduledFor),
      occurredAt: Date.parse(envelope.occurredAt),
      receivedAt: Date.now(),
    });
  },
});
// The first run is the catch-up of a new site (due at once); the slots after it are timed.
await waitFor(`${slots + 1} recent-sync slots`, () => fired.length > slots, {
  timeoutMs: (slots + 10) * intervalMs + 60000,
  intervalMs: 100,
});
await consumer.disconnect();
const timed = fired.slice(1, slots + 1);
const stats = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `min ${sorted[0]} ms, p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${sorted[sorted.length - 1]} ms`;
};
const gaps = timed.slice(1).map((f, i) => f.scheduledFor - timed[i].scheduledFor);
console.log(`fire-time accuracy: ${timed.length} slots of ${intervalMs} ms (tick 1000 ms, the default)`);
console.log(`  slot -> fired (occurredAt)      ${stats(timed.map((f) => f.occurredAt - f.scheduledFor))}`);
console.log(`  slot -> on Kafka (received)     ${stats(timed.map((f) => f.receivedAt - f.scheduledFor))}`);
console.log(
  `  slot spacing                    ${stats(gaps)} (every slot exactly once: ${new Set(timed.map((f) => f.scheduledFor)).size === timed.length})`,
);

// ---- booking to reminder, 1-minute lead
const token = await stack.adminToken();
const policy = await fetch(`${scheduler}/admin/sites/${site}/reminders/policy`, {
  method: 'PUT',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify({
    policy: {
      enabled: true,
      leadMinutes: [1],
      channels: ['email'],
      quietHours: null,
      includeEmrAppointments: false,
      statusNotices: false,
    },
  }),
});
if (policy.status !== 200) throw new Error(`policy: HTTP ${policy.status}`);
const inbox = new MailInbox(env.MAIL_API_URL);
const post = async (bundle, key) => {
  const response = await fetch(`${stack.base}/fhir/$process-message`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', 'Referral-Integration-API-Key': key },
    body: JSON.stringify(bundle),
  });
  if (response.status !== 200) throw new Error(`post: HTTP ${response.status} ${await response.text()}`);
};
// Booked 75 s ahead: the 1-minute reminder is due 15 s after the booking (a lead already past
// when the booking reaches the scheduler is not sent late, so the due time must be ahead of it).
const booked = [];
for (let i = 0; i < bookings; i += 1) {
  const email = `bench.${site}.${i}@patient.example`;
  const referral = addServiceRequestWithQuirks();
  const patient = referral.entry.find((e) => e.resource.resourceType === 'Patient').resource;
  patient.telecom = [...(patient.telecom ?? []), { system: 'email', value: email }];
  await post(referral, senderKey);
  const start = new Date(Date.now() + 75000);
  await post(
    appointmentFor(referral, {
      event: 'notify-add-appointment',
      appointmentId: `bench-${i}`,
      status: 'booked',
      start: start.toISOString(),
      timestamp: new Date().toISOString(),
    }),
    receiverKey,
  );
  booked.push({ email, at: Date.now(), due: start.getTime() - 60000 });
}
const results = [];
for (const b of booked) {
  const mail = await waitFor(
    'the reminder',
    async () => (await inbox.list(b.email)).find((m) => /reminder|rappel/i.test(m.subject)),
    { timeoutMs: 120000, intervalMs: 100 },
  );
  const arrived = Date.parse(mail.receivedAt);
  results.push({ toReminder: arrived - b.at, lateAfterDue: arrived - b.due, dueAfterBooking: b.due - b.at });
}
console.log(
  `booking to reminder, lead 1 minute, ${results.length} bookings due ${stats(results.map((r) => r.dueAfterBooking))} after their booking:`,
);
console.log(`  booking answered -> reminder in the SMTP sink   ${stats(results.map((r) => r.toReminder))}`);
console.log(`  due time -> reminder in the SMTP sink           ${stats(results.map((r) => r.lateAfterDue))}`);

copies.close();
for (const p of processes) p.kill('SIGTERM');
await Promise.all(processes.map((p) => new Promise((r) => (p.exitCode !== null ? r() : p.once('exit', r)))));
const db = new Client({ connectionString: env.DATABASE_URL });
await db.connect();
for (const s of [schedSchema, notifySchema]) await db.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
await stack.stop(db);
await db.end();
