// Into the chart, end to end: an eReferral posted to referral-intake becomes a PDF (and a
// tickler) in the simulated PS Suite chart; a patient with no chart, or two, is held (nothing
// written, one alert) until a site admin picks the chart with the CLI; with the setting off,
// nothing is written.
import { waitFor } from '@cloud-connect/testing';
import { chartTexts, Intake, referralFor, waitDocuments } from './chart-support';
import { Harness } from './harness';

const h = new Harness(4);
const intake = new Intake(h);

beforeAll(async () => {
  await intake.wire();
  await h.start();
  await intake.start();
}, 180000);
afterAll(async () => {
  await intake.stop();
  await h.stop();
});

async function chartSite(settings: Record<string, unknown> = { importAttachmentsAsPdf: true }) {
  const site = h.site();
  const sim = await h.simCreate({ type: 'ps-suite' });
  await h.connect(site, sim);
  await h.setSettings(site, settings);
  const key = await intake.integration(site);
  return { site, sim, key, data: await h.simData(sim.id) };
}

it('a posted eReferral arrives as a PDF in the PS Suite chart (French labels), with a tickler', async () => {
  const { site, sim, key, data } = await chartSite();
  const patient = data.patients[2]!;
  expect(await intake.post(key, referralFor(patient, 'Genou droit: arthrose sévère'))).toBe(200);
  const after = await waitDocuments(h, sim.id, 1);
  expect(after.documents).toHaveLength(1);
  expect(after.documents[0]).toMatchObject({ patientId: patient.id });
  const [text] = await chartTexts(h, sim.id, patient.id);
  expect(text).toContain('Demande de consultation électronique - Orthopedic Surgery');
  expect(text).toContain(`Numéro d'assurance maladie: ${patient.healthNumber} ON`);
  expect(text).toContain(`Date de naissance: ${patient.birthDate}`);
  expect(text).toContain('Motif: Genou droit: arthrose sévère');
  expect(text).toContain('Référé par: Dr. Arjun Singh');
  expect(text).toContain('Previous surgery on this joint?');
  expect(text).toContain('knee-xray-report.pdf (application/pdf)');
  await waitFor('the tickler', async () => (await h.simData(sim.id)).ticklers.length === 1, {
    timeoutMs: 20000,
  });
  const final = await h.simData(sim.id);
  expect(final.ticklers[0]).toMatchObject({ patientId: patient.id });
  expect(final.ticklers[0]!.message).toContain('Nouvelle demande de consultation au dossier');
  // No PHI in the queue's rows: content is sealed, the patient key is a keyed hash.
  const { rows } = await h.db.query<{ patient_key: string; sealed: string }>(
    `SELECT patient_key, sealed::text FROM "${h.schema}".emr_commands WHERE site_number = $1`,
    [site],
  );
  expect(rows).toHaveLength(2);
  for (const row of rows) {
    expect(row.patient_key).toMatch(/^hcn:[0-9a-f]{40}$/);
    expect(`${row.patient_key}${row.sealed}`).not.toContain(patient.healthNumber);
  }
});

it('no chart, then two charts, for the patient: held with one alert each, released by the admin in order', async () => {
  const { site, sim, key, data } = await chartSite();
  const known = data.patients[3]!;
  // 1. A health card number no chart has: nothing written, held, alerted once.
  const stranger = { healthNumber: '9999999999', birthDate: '1970-01-01' };
  expect(await intake.post(key, referralFor(stranger, 'first'))).toBe(200);
  expect(await intake.post(key, referralFor(stranger, 'second'))).toBe(200);
  let held: { commandId: string; reason: string; candidatePatientIds: string[] }[] = [];
  await waitFor(
    'the first referral held',
    async () => {
      const r = await h.api('GET', `/admin/sites/${site}/emr/commands/held`);
      held = r.body['held'] as typeof held;
      return held.length === 1;
    },
    { timeoutMs: 30000 },
  );
  expect(held[0]!.reason).toMatch(/no chart in the EMR matches/);
  await waitFor('one alert', () => h.alerts(site, 'emr-patient-unmatched').length === 1, {
    timeoutMs: 20000,
  });
  expect(h.alerts(site, 'emr-patient-unmatched')[0]!.payload).toMatchObject({
    locale: 'fr',
    recipient: 'site-clinical-admin',
  });
  // The second referral of that patient waits behind the first (its line is held), not written.
  expect((await h.simData(sim.id)).documents).toHaveLength(0);

  // 2. The admin picks the chart (the CLI), and both arrive there in order.
  const released = await intake.cli([
    'emr',
    'release',
    '--site',
    site,
    '--command',
    held[0]!.commandId,
    '--patient',
    known.id,
  ]);
  expect(released.code).toBe(0);
  // The second is matched on its own: still no chart for that number, so it is held too.
  await waitFor(
    'second held',
    async () => {
      const r = await h.api('GET', `/admin/sites/${site}/emr/commands/held`);
      held = r.body['held'] as typeof held;
      return held.length === 1 && (await h.simData(sim.id)).documents.length === 1;
    },
    { timeoutMs: 30000 },
  );
  const badRelease = await h.api(
    'POST',
    `/admin/sites/${site}/emr/commands/${held[0]!.commandId}/release`,
    {},
  );
  expect(badRelease.status).toBe(400);
  const notHeld = await h.api(
    'POST',
    `/admin/sites/${site}/emr/commands/00000000-0000-4000-8000-000000000000/release`,
    { patientId: known.id },
  );
  expect(notHeld.status).toBe(404);
  expect(
    (
      await h.api('POST', `/admin/sites/${site}/emr/commands/${held[0]!.commandId}/release`, {
        patientId: known.id,
      })
    ).status,
  ).toBe(202);
  await waitDocuments(h, sim.id, 2);
  const texts = await chartTexts(h, sim.id, known.id);
  expect(
    texts.map((t) => (t.includes('Motif: first') ? 'first' : t.includes('Motif: second') ? 'second' : '?')),
  ).toEqual(['first', 'second']);

  // 3. Two charts with the same health card number and date of birth: ambiguous, held, never guessed.
  const twin = await fetch(`${h.sim.url}/_sim/instances/${sim.id}/patients`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ healthNumber: known.healthNumber, birthDate: known.birthDate, lastName: 'Twin' }),
  });
  expect(twin.status).toBe(201);
  expect(await intake.post(key, referralFor(known, 'third'))).toBe(200);
  await waitFor(
    'ambiguous held',
    async () => {
      const r = await h.api('GET', `/admin/sites/${site}/emr/commands/held`);
      held = r.body['held'] as typeof held;
      return held.length === 1;
    },
    { timeoutMs: 30000 },
  );
  expect(held[0]!.reason).toMatch(/2 charts in the EMR match/);
  expect(held[0]!.candidatePatientIds).toContain(known.id);
  expect((await h.simData(sim.id)).documents).toHaveLength(2);
  await waitFor('two alerts', () => h.alerts(site, 'emr-patient-unmatched').length === 3, {
    timeoutMs: 20000,
  });
});

it('with "import attachments" off, a referral writes nothing to the chart', async () => {
  const off = await chartSite({ importAttachmentsAsPdf: false });
  const on = await chartSite();
  expect(await intake.post(off.key, referralFor(off.data.patients[0]!, 'off'))).toBe(200);
  expect(await intake.post(on.key, referralFor(on.data.patients[0]!, 'on'))).toBe(200);
  await waitDocuments(h, on.sim.id, 1);
  // The gateway consumed both (one consumer, in order per partition); give the other site a moment.
  await new Promise((r) => setTimeout(r, 2000));
  expect((await h.simData(off.sim.id)).documents).toHaveLength(0);
  const { rows } = await h.db.query(`SELECT 1 FROM "${h.schema}".emr_commands WHERE site_number = $1`, [
    off.site,
  ]);
  expect(rows).toHaveLength(0);
});
