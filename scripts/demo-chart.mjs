// The demo's simulated PS Suite chart, read the way the EMR's own API shows it (after `npm start`):
// lists the documents filed in the charts through the TELUS endpoint (`GET /patients/{id}/documents`,
// with the demo instance's credentials) and prints the text of one PDF (the newest, or `--document ID`).
//   node scripts/demo-chart.mjs [--patient CHART-ID] [--document DOCUMENT-ID]
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';

/** The PDF's text, through scripts/pdf-text.cjs (pdf-parse needs a CommonJS main module). */
const pdfText = (bytes) =>
  execFileSync(process.execPath, [new URL('pdf-text.cjs', import.meta.url).pathname], { input: bytes })
    .toString()
    .trim();

const { values } = parseArgs({ options: { patient: { type: 'string' }, document: { type: 'string' } } });
const simUrl = `http://127.0.0.1:${process.env.DEMO_EMR_SIMULATOR_PORT ?? 4010}`;
const instance = await (await fetch(`${simUrl}/_sim/instances/demo-ps-suite`)).json();
const { access_token: token } = await (
  await fetch(`${instance.baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: instance.credentials.instanceId,
      client_secret: instance.credentials.secret,
    }).toString(),
  })
).json();
const api = async (path) => {
  const response = await fetch(`${instance.baseUrl}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
  return response.json();
};

// The charts to list: the one asked for, else every chart of the demo instance.
const { patients } = await (await fetch(`${simUrl}/_sim/instances/demo-ps-suite/data`)).json();
const charts = values.patient ? patients.filter((p) => p.id === values.patient) : patients;
const filed = [];
for (const p of charts) {
  const { documents } = await api(`/patients/${encodeURIComponent(p.id)}/documents`);
  for (const d of documents) filed.push({ ...d, chart: `${p.id} ${p.firstName} ${p.lastName}` });
}
filed.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
if (filed.length === 0) {
  console.log('no documents in the PS Suite chart yet: post one with `node scripts/demo-referral.mjs`');
  process.exit(0);
}
for (const d of filed) console.log(`${d.createdAt}  chart ${d.chart}  ${d.documentId}  ${d.title}`);
const shown = values.document ? filed.find((d) => d.documentId === values.document) : filed.at(-1);
if (!shown) {
  console.error(`no document ${values.document} in these charts`);
  process.exit(1);
}
const { content } = await (
  await fetch(`${simUrl}/_sim/instances/demo-ps-suite/documents/${shown.documentId}`)
).json();
console.log(`\n--- text of "${shown.title}" (${shown.documentId}) ---\n`);
console.log(pdfText(Buffer.from(content, 'base64')));
