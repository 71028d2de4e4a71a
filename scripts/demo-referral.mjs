// The demo's "into the chart" in one command (after `npm start`): posts an eReferral for a patient
// of the simulated PS Suite to the demo site's integration, waits until emr-gateway filed it in
// that patient's chart, saves the PDF and prints the chart entry and the PDF's text.
//   node scripts/demo-referral.mjs
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, root, stateDir } from './demo-stack.mjs';

const { addServiceRequestWithAttachment } = fixtures;

/** The PDF's text, through scripts/pdf-text.cjs (pdf-parse needs a CommonJS main module). */
const pdfText = (bytes) =>
  execFileSync(process.execPath, [join(root, 'scripts', 'pdf-text.cjs')], { input: bytes })
    .toString()
    .trim();

const key = readFileSync(join(stateDir, 'secrets', 'demo-integration-key'), 'utf8').trim();
const simUrl = `http://127.0.0.1:${process.env.DEMO_EMR_SIMULATOR_PORT ?? 4010}`;
const intakeUrl = process.env.INTAKE_URL ?? 'http://127.0.0.1:3001';
const instance = `${simUrl}/_sim/instances/demo-ps-suite`;

const before = await (await fetch(`${instance}/data`)).json();
const patient = before.patients[0];
const bundle = addServiceRequestWithAttachment();
for (const { resource } of bundle.entry) {
  if (resource.resourceType === 'Patient') {
    resource.identifier = [
      {
        system: 'https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn',
        value: patient.healthNumber,
      },
    ];
    resource.name = [{ family: patient.lastName, given: [patient.firstName] }];
    resource.birthDate = patient.birthDate;
  }
}
const posted = await fetch(`${intakeUrl}/public/ocean/fhir_bundles`, {
  method: 'POST',
  headers: { 'content-type': 'application/fhir+json', 'Referral-Integration-API-Key': key },
  body: JSON.stringify(bundle),
});
console.log(
  `posted an eReferral for ${patient.firstName} ${patient.lastName} (chart ${patient.id}) to site ${process.env.DEMO_SITE_NUMBER ?? 1000}: HTTP ${posted.status}`,
);
if (posted.status !== 200) process.exit(1);
const deadline = Date.now() + 60000;
for (;;) {
  const data = await (await fetch(`${instance}/data`)).json();
  const doc = data.documents.find(
    (d) => d.patientId === patient.id && !before.documents.some((b) => b.id === d.id),
  );
  if (doc) {
    const { content } = await (await fetch(`${instance}/documents/${doc.id}`)).json();
    const file = join(stateDir, 'demo-referral.pdf');
    writeFileSync(file, Buffer.from(content, 'base64'));
    console.log(
      `filed in the PS Suite chart: "${doc.title}" (${doc.sizeBytes} bytes, ${doc.createdAt}); saved as ${file}\n`,
    );
    console.log(pdfText(Buffer.from(content, 'base64')));
    break;
  }
  if (Date.now() > deadline) {
    console.error('not in the chart after 60 s: see `cloud-connect emr status --site 1000` and `emr held`');
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 500));
}
