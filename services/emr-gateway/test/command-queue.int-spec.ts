// The EMR command queue under faults: EMR down then back, SIGKILL mid-batch, deauthorized
// mid-run, a provider without schedule permission, and combined notes of one sitting.
import { Events } from '@cloud-connect/contracts';
import { sleep, waitFor } from '@cloud-connect/testing';
import { randomUUID } from 'node:crypto';
import { Harness, type SimData } from './harness';

const h = new Harness(7);

beforeAll(() => h.start(), 120000);
afterAll(() => h.stop());

function notesOf(data: SimData, patientId: string): string[] {
  return data.notes.filter((n) => n.patientId === patientId).map((n) => n.text);
}

async function connectedSite(type: string, seed: Record<string, unknown> = {}) {
  const site = h.site();
  const sim = await h.simCreate({ type, seed });
  await h.connect(site, sim);
  const data = await h.simData(sim.id);
  return { site, sim, data };
}

it('EMR down for a while then back: every command applied exactly once, in order per patient', async () => {
  const { site, sim, data } = await connectedSite('accuro');
  const [a, b] = [data.patients[0]!, data.patients[1]!];
  await h.simFaults(sim.id, { down: true });
  const ids: string[] = [];
  for (let i = 1; i <= 4; i += 1) {
    ids.push(
      await h.command(site, 'save-progress-note', `p-${a.id}`, {
        patient: { healthNumber: a.healthNumber },
        text: `A${i}`,
      }),
    );
    ids.push(
      await h.command(site, 'save-progress-note', `p-${b.id}`, {
        patient: { healthNumber: b.healthNumber },
        text: `B${i}`,
      }),
    );
  }
  // The first failure alerts the clinical administrator (in the site's language); reminders follow.
  await waitFor('first-failure alert', () => h.alerts(site, 'emr-delivery-failing').length === 1, {
    timeoutMs: 20000,
  });
  expect(h.alerts(site, 'emr-delivery-failing')[0]!.payload).toMatchObject({
    locale: 'fr',
    recipient: 'site-clinical-admin',
    channel: 'email',
  });
  await waitFor('reminder alert', () => h.alerts(site, 'emr-delivery-failing-reminder').length >= 1, {
    timeoutMs: 20000,
  });
  const held = await h.status(site);
  expect(held['queue']).toMatchObject({ pending: 8 });
  expect(Number(held['queue']?.['oldestPendingAgeSeconds'])).toBeGreaterThanOrEqual(0);
  const metrics = await (await fetch(`${h.service.url}/metrics`)).text();
  expect(metrics).toMatch(new RegExp(`emr_command_queue_depth\\{site="${site}"[^}]*\\} 8\\b`));
  expect(metrics).toMatch(new RegExp(`emr_command_oldest_pending_seconds\\{site="${site}"[^}]*\\} \\d+`));

  // One first-failure alert for the outage (later blips alert again only after the quiet window).
  expect(h.alerts(site, 'emr-delivery-failing')).toHaveLength(1);

  // Back, but flaky: every third request answers 503.
  await h.simFaults(sim.id, { down: false, intermittent5xxEvery: 3 });
  await h.waitCommands(site, ids, 'applied', 60000);
  const after = await h.simData(sim.id);
  expect(notesOf(after, a.id)).toEqual(['A1', 'A2', 'A3', 'A4']);
  expect(notesOf(after, b.id)).toEqual(['B1', 'B2', 'B3', 'B4']);
  expect((await h.status(site))['queue']).toMatchObject({ pending: 0 });
});

it('SIGKILL in the middle of a batch: after restart nothing is lost and nothing duplicated in the chart', async () => {
  const { site, sim, data } = await connectedSite('ps-suite');
  await h.simFaults(sim.id, { slowMs: 60 });
  const patients = data.patients.slice(0, 6);
  const ids: string[] = [];
  for (let i = 1; i <= 8; i += 1) {
    for (const p of patients) {
      ids.push(
        await h.command(site, 'save-progress-note', `p-${p.id}`, {
          patient: { healthNumber: p.healthNumber },
          text: `${p.id}-${i}`,
        }),
      );
    }
  }
  await waitFor('some notes written', async () => (await h.simData(sim.id)).notes.length >= 10, {
    timeoutMs: 30000,
    intervalMs: 50,
  });
  h.service.kill('SIGKILL');
  await h.service.exited();
  const atKill = (await h.simData(sim.id)).notes.length;
  expect(atKill).toBeLessThan(ids.length);
  h.startService();
  await h.service.waitReady(90000);
  await h.waitCommands(site, ids, 'applied', 90000);
  const after = await h.simData(sim.id);
  expect(after.notes).toHaveLength(ids.length);
  for (const p of patients) {
    expect(notesOf(after, p.id)).toEqual(Array.from({ length: 8 }, (_, i) => `${p.id}-${i + 1}`));
  }
}, 180000);

it('a note the EMR files after the gateway died is found by the re-attempt, not written twice', async () => {
  const { site, sim, data } = await connectedSite('ps-suite');
  const patient = data.patients[0]!;
  // The EMR ignores the key (only the read-back can keep one copy) and takes 6 s to file a write:
  // longer than the restarted gateway takes to try again, shorter than the write's timeout + settle.
  await h.simFaults(sim.id, { ignoreIdempotencyKey: true, slowWritesMs: 6000 });
  const id = await h.command(site, 'save-progress-note', `p-${patient.id}`, {
    patient: { healthNumber: patient.healthNumber },
    text: 'filed after its sender died',
  });
  await waitFor(
    'the note write held by the EMR',
    async () => (await h.simWritesInFlight(sim.id)).some((path) => path.endsWith('/progress-notes')),
    { timeoutMs: 60000, intervalMs: 50 },
  );
  h.service.kill('SIGKILL');
  await h.service.exited();
  const killedAt = new Date().toISOString();
  await h.simFaults(sim.id, { slowWritesMs: 0 });
  h.startService();
  await h.service.waitReady(90000);
  await h.waitCommands(site, [id], 'applied', 60000);

  const notes = (await h.simData(sim.id)).notes.filter((n) => n.patientId === patient.id);
  expect(notes.map((n) => n.text)).toEqual(['filed after its sender died']);
  const received = await h.simReceived(sim.id);
  const filed = received.filter((r) => r.method === 'POST' && r.path.endsWith('/progress-notes'));
  const lookups = received.filter(
    (r) => r.at > killedAt && r.method === 'GET' && r.path.endsWith('/progress-notes'),
  );
  // One write (the one in flight at the SIGKILL), and the chart read back only after it was filed.
  expect(filed).toHaveLength(1);
  expect(lookups.length).toBeGreaterThan(0);
  expect(lookups[0]!.at >= filed[0]!.at).toBe(true);
}, 180000);

it('deauthorized mid-run: alert sent, commands held, all applied after re-authentication', async () => {
  const { site, sim, data } = await connectedSite('oscar-pro');
  const p = data.patients[2]!;
  const first = await h.command(site, 'save-progress-note', `p-${p.id}`, {
    patient: { healthNumber: p.healthNumber },
    text: 'before',
  });
  await h.waitCommands(site, [first], 'applied');
  await h.simFaults(sim.id, { deauthorized: true });
  const held = [
    await h.command(site, 'save-progress-note', `p-${p.id}`, {
      patient: { healthNumber: p.healthNumber },
      text: 'held 1',
    }),
    await h.command(site, 'save-progress-note', `p-${p.id}`, {
      patient: { healthNumber: p.healthNumber },
      text: 'held 2',
    }),
  ];
  await waitFor('deauthorized alert', () => h.alerts(site, 'emr-deauthorized').length === 1, {
    timeoutMs: 20000,
  });
  const status = await h.status(site);
  expect(status['connection']).toMatchObject({ status: 'deauthorized' });
  expect(status['queue']).toMatchObject({ pending: 2, held: true });
  await sleep(1500);
  expect(notesOf(await h.simData(sim.id), p.id)).toEqual(['before']);
  expect(h.alerts(site, 'emr-deauthorized')).toHaveLength(1);

  // The EMR admin fixes the user; the site admin re-authenticates (reconfigure).
  await h.simFaults(sim.id, { deauthorized: false });
  await h.connect(site, sim);
  await h.waitCommands(site, held, 'applied');
  expect(notesOf(await h.simData(sim.id), p.id)).toEqual(['before', 'held 1', 'held 2']);
  expect((await h.status(site))['connection']).toMatchObject({ status: 'connected' });
});

it('a provider without schedule permission is reported by name with the permission to fix', async () => {
  const { site } = await connectedSite('accuro', { restrictedProviders: [2] });
  const requestId = randomUUID();
  await h.send(Events.syncRequested, site, { requestId, scope: 'recent', requestedBy: 'test' });
  const completed = await waitFor('sync.completed', () =>
    h.published.find(
      (e) => e.type === 'sync.completed' && (e.payload as { requestId: string }).requestId === requestId,
    ),
  );
  const problem = {
    providerId: '102',
    providerName: 'Bruno Tremblay',
    missingPermissions: expect.arrayContaining(['Scheduling']),
  };
  expect(completed.payload).toMatchObject({
    outcome: 'succeeded',
    appointments: 18,
    providerProblems: [problem],
  });
  const sync = (await h.status(site))['sync']!;
  expect(sync['providerProblems']).toEqual([problem]);
  expect(sync['lastError']).toContain('Bruno Tremblay: grant Scheduling');
  expect(sync['lastError']).toContain('Manage Security');
  // The run is counted for alerting (emr_sync_runs_total, per site and outcome).
  const metrics = await (await fetch(`${h.service.url}/metrics`)).text();
  expect(metrics).toMatch(
    new RegExp(`emr_sync_runs_total\\{site="${site}",outcome="succeeded"[^}]*\\} 1\\b`),
  );
});

describe('combined progress notes', () => {
  async function sitting(combine: boolean): Promise<string[]> {
    const { site, sim, data } = await connectedSite('fhir-r4');
    await h.setSettings(site, { combineProgressNotes: combine });
    const p = data.patients[3]!;
    const id = randomUUID();
    const ids: string[] = [];
    for (const [i, form] of ['GAD-7: 3', 'PHQ-9: 5', 'Allergies: none'].entries()) {
      ids.push(
        await h.command(
          site,
          'save-progress-note',
          `p-${p.id}`,
          { patient: { healthNumber: p.healthNumber }, text: form },
          { id, index: i + 1, total: 3 },
        ),
      );
      await sleep(200);
    }
    await h.waitCommands(site, ids, 'applied');
    return notesOf(await h.simData(sim.id), p.id);
  }

  it('three forms in one sitting make one note when the setting is on', async () => {
    const notes = await sitting(true);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/GAD-7: 3[\s\S]*PHQ-9: 5[\s\S]*Allergies: none/);
  });

  it('three notes with the setting off', async () => {
    expect(await sitting(false)).toEqual(['GAD-7: 3', 'PHQ-9: 5', 'Allergies: none']);
  });
});
