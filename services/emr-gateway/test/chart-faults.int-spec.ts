// Into the chart under faults: real eReferrals posted through referral-intake while every part
// fails in turn — intake SIGKILLed right after answering (outbox relay with it), emr-gateway
// SIGKILLed mid-apply, the vault service and the notifier SIGKILLed, Kafka restarted, Postgres
// crashed (postmaster SIGKILLed) and started again by the stack script, the EMR down, then
// deauthorized and re-authorized — and then every chart holds exactly one document per input, in
// the order the inputs were posted for that patient. The simulated PS Suite ignores the
// `Idempotency-Key` (as most vendor APIs would): only the gateway's own record of what it applied
// and its read-back of the chart keep a write re-sent after the SIGKILL to one copy.
import {
  freePort,
  ServiceProcess,
  serviceEnvFor,
  sleep,
  stackCtl,
  stackStateDir,
  waitFor,
} from '@cloud-connect/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chartTexts, documentText, Intake, referralFor } from './chart-support';
import { Harness, type SimSummary } from './harness';

const h = new Harness(1, { EMR_HTTP_TIMEOUT_MS: '2000' });
const intake = new Intake(h);
let notifier: ServiceProcess;

beforeAll(async () => {
  await intake.wire();
  await h.start();
  await intake.start();
  notifier = new ServiceProcess(
    'notifier',
    await freePort(),
    serviceEnvFor('notifier', h.env, { DATABASE_SCHEMA: `${h.schema}_notifier` }),
  ).start();
  await notifier.waitReady(90000);
}, 420000);
afterAll(async () => {
  await notifier?.stop();
  await intake.stop();
  await h.db.query(`DROP SCHEMA IF EXISTS "${h.schema}_notifier" CASCADE`).catch(() => undefined);
  await h.stop();
});

interface Input {
  marker: string;
  patientId: string;
}

it('exactly one document per input, in order per patient, through every fault', async () => {
  const site = h.site();
  const sim: SimSummary = await h.simCreate({ type: 'ps-suite' });
  await h.simFaults(sim.id, { ignoreIdempotencyKey: true });
  await h.connect(site, sim);
  await h.setSettings(site, { importAttachmentsAsPdf: true });
  const key = await intake.integration(site);
  const patients = (await h.simData(sim.id)).patients.slice(0, 4);
  const inputs: Input[] = [];

  /** Posts the next input as a sender does: retried on 503 / no answer until intake accepts it. */
  const postNext = async (): Promise<void> => {
    const n = inputs.length + 1;
    const patient = patients[n % patients.length]!;
    const marker = `input-${String(n).padStart(3, '0')}`;
    inputs.push({ marker, patientId: patient.id });
    const bundle = referralFor(patient, marker);
    const deadline = Date.now() + 90000;
    for (;;) {
      const status = await intake.post(key, bundle).catch(() => 0);
      if (status === 200) return;
      if (Date.now() > deadline) throw new Error(`${marker}: intake kept answering ${status}`);
      await sleep(300);
    }
  };
  const post = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i += 1) await postNext();
  };
  const documents = async (): Promise<number> => (await h.simData(sim.id)).documents.length;

  // 1. Baseline.
  await post(3);
  // 2. referral-intake SIGKILLed right after answering (its outbox relay dies with it).
  await post(3);
  intake.service.kill('SIGKILL');
  await intake.service.exited();
  intake.service.start();
  await intake.service.waitReady(60000);
  // 3. emr-gateway SIGKILLed in the middle of applying (a slow EMR keeps writes in flight).
  await h.simFaults(sim.id, { slowMs: 1500 });
  await post(4);
  // Killed while the EMR holds a document write: the gateway marked it started but never heard
  // the answer (the simulator reports the writes it is holding).
  await waitFor(
    'a document write held by the slow EMR',
    async () => (await h.simWritesInFlight(sim.id)).some((path) => path.endsWith('/documents')),
    { timeoutMs: 120000, intervalMs: 100 },
  );
  h.service.kill('SIGKILL');
  await h.service.exited();
  const killedAt = new Date().toISOString();
  await h.simFaults(sim.id, { slowMs: 0 });
  h.startService();
  await h.service.waitReady(60000);
  // 4. The vault service SIGKILLed: intake answers 503 (the sender retries), the gateway retries.
  h.vault.kill('SIGKILL');
  await h.vault.exited();
  const duringVault = post(2);
  await sleep(1500);
  h.vault.start();
  await h.vault.waitReady(60000);
  await duringVault;
  // 5. The notifier SIGKILLed (alerts wait in Kafka for it).
  notifier.kill('SIGKILL');
  await notifier.exited();
  notifier.start();
  await post(1);
  // 6. Kafka restarted mid-stream.
  const duringKafka = post(3);
  await stackCtl('restart', 'kafka');
  await duringKafka;
  // 7. Postgres crashes (postmaster SIGKILLed); the stack's own start brings it back.
  const pid = Number(
    readFileSync(join(stackStateDir(), 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\n')[0],
  );
  await h.db.end().catch(() => undefined);
  process.kill(pid, 'SIGKILL');
  const duringPostgres = post(3);
  await stackCtl('start', 'postgres');
  await duringPostgres;
  await h.reconnectDb();
  // 8. The EMR down for a stretch, then deauthorized, then re-authorized by the site admin.
  await h.simFaults(sim.id, { down: true });
  await post(3);
  await sleep(4000);
  await h.simFaults(sim.id, { down: false, deauthorized: true });
  await post(2);
  await waitFor(
    'connection deauthorized',
    async () => (await h.status(site))['connection']?.['status'] === 'deauthorized',
    {
      timeoutMs: 60000,
    },
  );
  await h.simFaults(sim.id, { deauthorized: false });
  await h.connect(site, sim);
  await notifier.waitReady(60000);

  // Every input in its patient's chart exactly once, in posting order.
  await waitFor('every input in the charts', async () => (await documents()) >= inputs.length, {
    timeoutMs: 180000,
    intervalMs: 500,
  });
  await sleep(1000);
  const filed = (await h.simData(sim.id)).documents;
  const filedMarkers = await Promise.all(
    filed.map(async (d) => /Motif: (input-\d+)/.exec(await documentText(h, sim.id, d.id))?.[1] ?? '?'),
  );
  if (new Set(filedMarkers).size !== filedMarkers.length || filed.length !== inputs.length) {
    // What a failure needs to be understood: every filing, and the gateway's record of each command.
    const { rows: commands } = await h.db.query<Record<string, unknown>>(
      `SELECT command_id, source_ref, status, attempts, write_started_at, applied_at, emr_record_id
       FROM "${h.schema}".emr_commands WHERE kind = 'attach-pdf' ORDER BY applied_at`,
    );
    process.stdout.write(
      `chart faults: filings\n${filed
        .map((d, i) => `  ${d.createdAt} ${filedMarkers[i]} key=${d.idempotencyKey ?? ''} id=${d.id}`)
        .join('\n')}\ncommands\n${commands.map((c) => `  ${JSON.stringify(c)}`).join('\n')}\n`,
    );
  }
  let found = 0;
  let duplicates = 0;
  for (const patient of patients) {
    const markers = (await chartTexts(h, sim.id, patient.id)).map(
      (t) => /Motif: (input-\d+)/.exec(t)?.[1] ?? '?',
    );
    const expected = inputs.filter((i) => i.patientId === patient.id).map((i) => i.marker);
    duplicates += markers.length - new Set(markers).size;
    found += new Set(markers.filter((m) => expected.includes(m))).size;
    expect(markers).toEqual(expected);
  }
  // After the SIGKILL, the write that was in flight was looked for in the chart before any re-send.
  const lookups = (await h.simReceived(sim.id)).filter(
    (r) => r.at > killedAt && r.method === 'GET' && r.path.endsWith('/documents'),
  ).length;
  expect(lookups).toBeGreaterThan(0);
  const total = (await h.simData(sim.id)).documents.length;
  process.stdout.write(
    `chart faults: inputs ${inputs.length}, documents ${total}, duplicates ${duplicates}, losses ${inputs.length - found}, read-backs after the SIGKILL ${lookups}\n`,
  );
  expect(total).toBe(inputs.length);
  expect(duplicates).toBe(0);
  expect(found).toBe(inputs.length);
}, 600000);
