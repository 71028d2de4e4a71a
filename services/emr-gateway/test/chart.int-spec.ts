// Into the chart, end to end: an eReferral posted to referral-intake becomes a PDF (and a
// tickler) in the simulated PS Suite chart; a patient with no chart, or two, is held (nothing
// written, one alert) until a site admin picks the chart with the CLI; with the setting off,
// nothing is written; a kiosk check-in (FHIR Encounter) marks the patient's appointments within
// the "mark arrived" window as arrived, and nothing outside it.
import { waitFor } from '@cloud-connect/testing';
import { derivedCommandId } from '../src/chart/chart-intake';
import { chartTexts, checkInFor, formFor, Intake, referralFor, waitDocuments } from './chart-support';
import { PDF_BASE64, torontoToday } from './harness';
import { Harness } from './harness';

// Forms of one sitting are posted one by one on a loaded machine: wait for them long enough.
// (Setting up seven sites through the vault service takes minutes on a loaded 2-core machine.)
const h = new Harness(7, { EMR_SITTING_WAIT_MS: '15000' });
const intake = new Intake(h);

beforeAll(async () => {
  await intake.wire();
  await h.start();
  await intake.start();
}, 600000);
afterAll(async () => {
  await intake.stop();
  await h.stop();
});

interface Held {
  commandId: string;
  reason: string;
  candidatePatientIds: string[];
}

/** Waits until exactly one command of the site waits for its patient; the list. */
async function oneHeld(site: string): Promise<Held[]> {
  let held: Held[] = [];
  await waitFor(
    'one command held',
    async () => {
      held = (await h.api('GET', `/admin/sites/${site}/emr/commands/held`)).body['held'] as Held[];
      return held.length === 1;
    },
    { timeoutMs: 30000 },
  );
  return held;
}

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
  let held = await oneHeld(site);
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
  held = await oneHeld(site);
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

it('completed forms: a progress note at once; one sitting combined into one note when the setting is on, one note each when off; an incomplete sitting after the wait; a website form with an attachment as a PDF', async () => {
  const on = await chartSite({ combineProgressNotes: true, importAttachmentsAsPdf: true });
  const off = await chartSite({ combineProgressNotes: false });
  const tokenOn = await intake.formsToken(on.site);
  const tokenOff = await intake.formsToken(off.site);
  const [a, b] = [on.data.patients[0]!, on.data.patients[1]!];

  // Refusals change nothing.
  expect((await intake.postForm(null, formFor(a, 'PHQ-9'))).status).toBe(401);
  const noHcn = formFor(a, 'PHQ-9');
  const contained = noHcn.contained?.[0];
  if (contained?.resourceType !== 'Patient') throw new Error('formFor contains no Patient');
  contained.identifier = [];
  const refused = await intake.postForm(tokenOn, noHcn);
  expect(refused.status).toBe(422);
  expect(JSON.stringify(refused.body)).toContain('health card number');

  // A single form: a note at once; the same form again is the same answer, nothing new.
  const single = formFor(b, 'GAD-7');
  expect((await intake.postForm(tokenOn, single)).status).toBe(201);
  expect((await intake.postForm(tokenOn, single)).status).toBe(200);
  expect((await intake.postForm(tokenOn, { ...single, status: 'amended' })).status).toBe(409);

  // Three forms in one sitting, on both sites.
  const sitting = (n: number) => ({ id: `sitting-${n}`, total: 3 });
  for (const [site, token, patient] of [
    [on, tokenOn, a],
    [off, tokenOff, off.data.patients[0]!],
  ] as const) {
    for (const [i, title] of ['PHQ-9', 'GAD-7', 'AUDIT-C'].entries()) {
      const posted = await intake.postForm(
        token,
        formFor(patient, title, { sitting: { ...sitting(Number(site.site)), index: i + 1 } }),
      );
      expect(posted.status).toBe(201);
    }
  }
  // An incomplete sitting (2 of 3 arrive): combined after the wait.
  for (const [i, title] of ['Intake', 'Allergies'].entries()) {
    await intake.postForm(
      tokenOn,
      formFor(b, title, { sitting: { id: 'sitting-partial', index: i + 1, total: 3 } }),
    );
  }

  const notes = async (simId: string, patientId: string) =>
    (await h.simData(simId)).notes.filter((n) => n.patientId === patientId).map((n) => n.text);
  await waitFor('combined note', async () => (await notes(on.sim.id, a.id)).length === 1, {
    timeoutMs: 60000,
  });
  const [combined] = await notes(on.sim.id, a.id);
  expect(combined).toMatch(
    /PHQ-9 \(rempli le [^)]+\)\nPHQ-9 score: 7\nSmoker\?: non[\s\S]*GAD-7[\s\S]*AUDIT-C/,
  );
  await waitFor('three notes', async () => (await notes(off.sim.id, off.data.patients[0]!.id)).length === 3, {
    timeoutMs: 60000,
  });
  expect((await notes(off.sim.id, off.data.patients[0]!.id)).map((t) => t.split(' ')[0])).toEqual([
    'PHQ-9',
    'GAD-7',
    'AUDIT-C',
  ]);
  await waitFor('single and partial sitting', async () => (await notes(on.sim.id, b.id)).length === 2, {
    timeoutMs: 60000,
  });
  const bNotes = await notes(on.sim.id, b.id);
  expect(bNotes[0]).toMatch(/^GAD-7/);
  expect(bNotes[1]).toMatch(/^Intake[\s\S]*Allergies/);
  await new Promise((r) => setTimeout(r, 1000));
  expect(await notes(on.sim.id, b.id)).toHaveLength(2);

  // A website-form submission with an attachment: a PDF in the chart, not a note.
  const c = on.data.patients[4]!;
  const web = await intake.postForm(
    tokenOn,
    formFor(c, 'Skin concern', { attachment: Buffer.from(PDF_BASE64, 'base64') }),
  );
  expect(web.status).toBe(201);
  await waitDocuments(h, on.sim.id, 1);
  const [text] = await chartTexts(h, on.sim.id, c.id);
  expect(text).toContain('Formulaire soumis sur le site Web - Skin concern');
  expect(text).toContain('Photo of the rash');
  expect(text).toContain('rash.pdf (application/pdf)');
  expect(await notes(on.sim.id, c.id)).toHaveLength(0);
});

it("a kiosk check-in marks the patient's appointments within the window arrived; outside it, nothing; no chart: held", async () => {
  const { site, sim } = await chartSite({ markArrivedWithinHours: 2 });
  const token = await intake.formsToken(site, 'system/Encounter.c');
  const formsOnly = await intake.formsToken(site);
  const data = await h.simData(sim.id, true);
  const today = torontoToday();
  const todays = data.appointments!.filter((a) => a.start.startsWith(today) && a.status === 'booked');
  const [first, second] = [todays[0]!, todays.find((a) => a.patientId !== todays[0]!.patientId)!];
  const patientOf = (id: string) => data.patients.find((p) => p.id === id)!;
  const commandOf = (answer: { body: unknown }): string =>
    derivedCommandId(site, 'form', /accepted \(([0-9a-f-]{36})\)/.exec(JSON.stringify(answer.body))![1]!);
  /** The booked appointments of this patient the window of a check-in at `at` covers. */
  const inWindow = (patientId: string, at: number): string[] =>
    data
      .appointments!.filter(
        (a) =>
          a.patientId === patientId &&
          a.status === 'booked' &&
          Date.parse(a.start) >= at - 30 * 60000 &&
          Date.parse(a.start) <= at + 2 * 3600000,
      )
      .map((a) => a.id);

  // Refusals change nothing: no Encounter scope (403), not an arrival (422), no time (422).
  const at = Date.parse(first.start) - 3600000;
  const checkIn = checkInFor(patientOf(first.patientId), new Date(at).toISOString());
  expect((await intake.postForm(formsOnly, checkIn, 'Encounter')).status).toBe(403);
  const planned = await intake.postForm(token, { ...checkIn, status: 'planned' }, 'Encounter');
  expect(planned.status).toBe(422);
  expect(JSON.stringify(planned.body)).toContain('Encounter.status');
  const untimed = await intake.postForm(token, { ...checkIn, period: {} }, 'Encounter');
  expect(untimed.status).toBe(422);
  expect(JSON.stringify(untimed.body)).toContain('Encounter.period.start');

  // Within the window: the patient's appointment(s) there, and only those, are arrived.
  const accepted = await intake.postForm(token, checkIn, 'Encounter');
  expect(accepted.status).toBe(201);
  expect((await intake.postForm(token, checkIn, 'Encounter')).status).toBe(200);
  await h.waitCommands(site, [commandOf(accepted)], 'applied');
  const expected = inWindow(first.patientId, at);
  expect(expected).toContain(first.id);
  expect((await h.simData(sim.id)).arrived.sort()).toEqual(expected.sort());

  // Outside the window (the appointment is 5 h after the check-in): nothing is marked.
  const early = Date.parse(second.start) - 5 * 3600000;
  const outside = await intake.postForm(
    token,
    checkInFor(patientOf(second.patientId), new Date(early).toISOString()),
    'Encounter',
  );
  expect(outside.status).toBe(201);
  await h.waitCommands(
    site,
    [commandOf(outside)],
    inWindow(second.patientId, early).length ? 'applied' : 'skipped',
  );
  expect((await h.simData(sim.id)).arrived.sort()).toEqual(
    [...expected, ...inWindow(second.patientId, early)].sort(),
  );

  // A health card number no chart has: held with its reason, nothing marked, one alert.
  const stranger = await intake.postForm(
    token,
    checkInFor({ healthNumber: '9999999999', birthDate: '1970-01-01' }, new Date(at).toISOString()),
    'Encounter',
  );
  expect(stranger.status).toBe(201);
  const held = await oneHeld(site);
  expect(held[0]).toMatchObject({
    commandId: commandOf(stranger),
    reason: expect.stringMatching(/no chart/),
  });
  await waitFor('one alert', () => h.alerts(site, 'emr-patient-unmatched').length === 1, {
    timeoutMs: 20000,
  });
  const sent = (await h.simReceived(sim.id)).filter(
    (r) => r.method === 'POST' && r.path.endsWith('/arrival'),
  );
  expect(sent).toHaveLength(expected.length + inWindow(second.patientId, early).length);
});
