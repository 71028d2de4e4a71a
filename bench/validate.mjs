// Micro-benchmark of inbound eReferral validation: `npm run bench:validate` (after `npm run build`;
// no stack needed). For each fixture bundle (and the typical one with ≈ 1 MB of attachments) it
// prints CPU µs per bundle of the whole inbound check (JSON parse, limits, envelope, FHIR R4
// structure, messaging and eReferral rules, content hash) as intake runs it, of the R4
// structure check alone, compiled and by @medplum/core's full validator, and of the messaging
// and eReferral rules alone. It does not pass or fail.
//   BENCH_VALIDATE_ITERATIONS [2000] measured per bundle (after a quarter as many to warm up).
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const dist = join(new URL('..', import.meta.url).pathname, process.env.CC_DIST_DIR ?? 'dist');
const fromBuild = (path) => require(join(dist, path));
const fixtures = fromBuild('libs/testing/src/fixtures/ereferral-bundles.js');
const messages = 'services/referral-intake/src/fhir-messages';
const { validateInbound } = fromBuild(`${messages}/inbound-validation.js`);
const { loadFhirDefinitions, fullValidation } = fromBuild(`${messages}/fhir-structure.js`);
const { isClean } = fromBuild(`${messages}/compiled-structure.js`);
const { checkMessage } = fromBuild(`${messages}/ereferral-rules.js`);

const iterations = Number(process.env.BENCH_VALIDATE_ITERATIONS ?? 2000);
const limits = { maxDepth: 40, maxArrayLength: 5000 };

function oneMegabyte() {
  const b = fixtures.addServiceRequestWithAttachment();
  const doc = b.entry.find((e) => e.resource.resourceType === 'DocumentReference').resource;
  doc.content = [1, 2, 3, 4].map((n) => ({
    attachment: {
      contentType: 'application/pdf',
      title: `scan-${n}.pdf`,
      data: Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(190_000)]).toString('base64'),
    },
  }));
  return b;
}

/** CPU µs (user + system) per call of `fn`, after a warm-up. */
function cpuMicros(fn, n) {
  for (let i = 0; i < Math.ceil(n / 4); i++) fn();
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const used = process.cpuUsage(start);
  return Math.round(((used.user + used.system) / n) * 10) / 10;
}

const started = process.cpuUsage();
loadFhirDefinitions();
const load = process.cpuUsage(started);
const bundles = [
  ...Object.entries(fixtures.FIXTURES).map(([name, make]) => [name, make()]),
  ['typical with 1 MB of attachments', oneMegabyte()],
];
const rows = bundles.map(([name, bundle]) => {
  const raw = Buffer.from(JSON.stringify(bundle));
  const n = raw.length > 100_000 ? Math.max(20, Math.ceil(iterations / 50)) : iterations;
  return {
    bundle: name,
    bytes: raw.length,
    inboundMicros: cpuMicros(() => validateInbound(raw, limits), n),
    compiledStructureMicros: cpuMicros(() => isClean(bundle), n),
    rulesMicros: cpuMicros(() => checkMessage(bundle), n),
    fullStructureMicros: cpuMicros(() => fullValidation(bundle), Math.ceil(n / 4)),
  };
});
const result = {
  date: new Date().toISOString(),
  loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  definitionsLoadCpuMs: Math.round((load.user + load.system) / 1000),
  rows,
};
console.log(JSON.stringify(result, null, 2));
console.table(
  Object.fromEntries(
    rows.map((r) => [
      r.bundle,
      {
        bytes: r.bytes,
        'inbound check µs': r.inboundMicros,
        'R4 compiled µs': r.compiledStructureMicros,
        'eReferral rules µs': r.rulesMicros,
        'R4 full (@medplum/core) µs': r.fullStructureMicros,
      },
    ]),
  ),
);
