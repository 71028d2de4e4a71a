// Shares of a V8 CPU profile (`--cpu-prof`, see docs/performance.md) by where the time went:
// `node bench/profile-summary.mjs <file.cpuprofile> [--last-seconds N]` (only the samples of the
// last N seconds of the profile: the last measured level of a run). Self time of each sample is
// attributed to a category by the script URL and function name of its frame; prints the idle
// share and, of the busy time, each category's share and the top self-time functions.
import { readFileSync } from 'node:fs';

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [--last-seconds N]');
  process.exit(2);
}
const lastIndex = rest.indexOf('--last-seconds');
const lastSeconds = lastIndex >= 0 ? Number(rest[lastIndex + 1]) : Infinity;
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));

const CATEGORIES = [
  ['idle', (f) => f === '(idle)'],
  ['gc', (f) => f === '(garbage collector)'],
  ['program (native, unattributed)', (f) => f === '(program)'],
  [
    'opentelemetry',
    (f, u) =>
      u.includes('@opentelemetry') ||
      u.includes('require-in-the-middle') ||
      u.includes('import-in-the-middle'),
  ],
  ['validation (fhir-messages)', (f, u) => u.includes('/fhir-messages/') || u.includes('@medplum')],
  ['typeorm', (f, u) => u.includes('/typeorm/')],
  [
    'pg',
    (f, u) =>
      u.includes('/pg/') ||
      u.includes('/pg-protocol/') ||
      u.includes('/pg-types/') ||
      u.includes('/pg-pool/'),
  ],
  ['kafkajs', (f, u) => u.includes('/kafkajs/')],
  ['fastify + nest', (f, u) => /\/(fastify|@fastify|find-my-way|light-my-request|avvio|@nestjs)\//.test(u)],
  ['logging (pino)', (f, u) => u.includes('/pino')],
  ['prom-client', (f, u) => u.includes('/prom-client/')],
  ['zod', (f, u) => u.includes('/zod/')],
  ['our code (dist)', (f, u) => u.includes('/dist/') && !u.includes('node_modules')],
  ['node:crypto', (f, u) => u.startsWith('node:crypto') || u.includes('internal/crypto')],
  [
    'node:net/http/stream',
    (f, u) =>
      /node:(net|_http|http|stream|internal\/(streams|http|net|stream_base))/.test(u) ||
      /^(writev|writeBuffer|writeUtf8String|writeLatin1String)$/.test(f),
  ],
  ['JSON', (f) => f === 'parse' || f === 'stringify'],
];

function categoryOf(node) {
  const { functionName: f, url: u } = node.callFrame;
  for (const [name, test] of CATEGORIES) if (test(f, u ?? '')) return name;
  return u ? 'other js' : 'other native';
}

const byCategory = new Map();
const byFunction = new Map();
let t = profile.startTime;
const from = profile.endTime - lastSeconds * 1e6;
for (let i = 0; i < profile.samples.length; i += 1) {
  const dt = profile.timeDeltas[i] ?? 0;
  t += dt;
  if (t < from) continue;
  const node = nodes.get(profile.samples[i]);
  if (!node) continue;
  const cat = categoryOf(node);
  byCategory.set(cat, (byCategory.get(cat) ?? 0) + dt);
  const fn = `${node.callFrame.functionName || '(anonymous)'} ${(node.callFrame.url ?? '').replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/')}`;
  if (cat !== 'idle') byFunction.set(fn, (byFunction.get(fn) ?? 0) + dt);
}
const total = [...byCategory.values()].reduce((a, b) => a + b, 0);
const idle = byCategory.get('idle') ?? 0;
const busy = total - idle;
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, idle ${((idle / total) * 100).toFixed(1)} %`);
console.table(
  [...byCategory.entries()]
    .filter(([c]) => c !== 'idle')
    .sort((a, b) => b[1] - a[1])
    .map(([category, us]) => ({ category, 'busy %': Number(((us / busy) * 100).toFixed(1)) })),
);
console.table(
  [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25)
    .map(([fn, us]) => ({ function: fn.slice(0, 110), 'busy %': Number(((us / busy) * 100).toFixed(2)) })),
);
