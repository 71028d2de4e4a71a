// PHI envelope encryption throughput for 10 KB payloads (npm run bench:crypto).
// Measures the vault service's own crypto path (per-record data key, AES-256-GCM seal + wrap,
// unwrap + open) in-process from the build, with a KEK derived from a random SEK as the service
// caches it. Prints numbers; never passes or fails. Build first: npm run build.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = resolve(root, process.env.CC_DIST_DIR ?? 'dist');
const require = createRequire(import.meta.url);
const { deriveKek, seal, open } = require(resolve(dist, 'services/vault/src/phi/envelope.js'));

const SIZE = Number(process.env.BENCH_PAYLOAD_BYTES ?? 10 * 1024);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const kek = deriveKek(randomBytes(32), '1234', 1);
const payloads = Array.from({ length: 64 }, () => randomBytes(SIZE));

function run(label, fn) {
  for (let i = 0; i < 200; i += 1) fn(i); // warm-up
  const start = process.hrtime.bigint();
  const until = start + BigInt(SECONDS * 1e9);
  let count = 0;
  const samples = [];
  while (process.hrtime.bigint() < until) {
    const t0 = process.hrtime.bigint();
    fn(count);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e3);
    count += 1;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  samples.sort((a, b) => a - b);
  const pct = (p) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))].toFixed(1);
  const perSecond = count / seconds;
  return {
    operation: label,
    payloadBytes: SIZE,
    opsPerSecond: Math.round(perSecond),
    mbPerSecond: Number(((perSecond * SIZE) / 1024 / 1024).toFixed(1)),
    p50Micros: Number(pct(50)),
    p99Micros: Number(pct(99)),
  };
}

const sealed = payloads.map((p, i) => seal(kek, '1234', `rec-${i}`, p));
const results = [
  run('encrypt', (i) => seal(kek, '1234', `rec-${i % 64}`, payloads[i % 64])),
  run('decrypt', (i) => open(kek, '1234', `rec-${i % 64}`, sealed[i % 64])),
];

// Optional: through a running vault service's HTTP API (service token, audit entry per call).
// BENCH_VAULT_URL=http://127.0.0.1:3003 BENCH_SITE=<site with a SEK> SERVICE_SIGNING_KEY_FILE=<referral-intake key> npm run bench:crypto
async function overHttp() {
  const url = process.env.BENCH_VAULT_URL;
  const site = process.env.BENCH_SITE;
  if (!url || !site || !process.env.SERVICE_SIGNING_KEY_FILE) return [];
  const { ServiceTokenIssuer } = require(resolve(dist, 'libs/auth/src/index.js'));
  const issuer = new ServiceTokenIssuer('referral-intake', {
    SERVICE_SIGNING_KEY_FILE: process.env.SERVICE_SIGNING_KEY_FILE,
  });
  const batch = Number(process.env.BENCH_BATCH ?? 20);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 4);
  const items = Array.from({ length: batch }, (_, i) => ({
    recordId: `bench-${i}`,
    plaintext: payloads[i % 64].toString('base64'),
  }));
  const post = async (op, body) => {
    const response = await fetch(`${url}/sites/${site}/phi/${op}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await issuer.tokenFor('vault')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${op}: HTTP ${response.status}`);
    return response.json();
  };
  const sealedItems = (await post('encrypt', { items })).items;
  const measure = async (op, body) => {
    const until = Date.now() + SECONDS * 1000;
    const latencies = [];
    const worker = async () => {
      while (Date.now() < until) {
        const t0 = performance.now();
        await post(op, body);
        latencies.push(performance.now() - t0);
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    const records = (latencies.length * batch) / seconds;
    return {
      operation: `http-${op}`,
      payloadBytes: SIZE,
      batch,
      concurrency,
      recordsPerSecond: Math.round(records),
      mbPerSecond: Number(((records * SIZE) / 1024 / 1024).toFixed(1)),
      p50Ms: Number(latencies[Math.floor(latencies.length / 2)].toFixed(1)),
      p99Ms: Number(
        latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))].toFixed(1),
      ),
    };
  };
  return [
    await measure('encrypt', { items }),
    await measure('decrypt', {
      items: sealedItems.map((i) => ({ recordId: i.recordId, ciphertext: i.ciphertext })),
    }),
  ];
}
results.push(...(await overHttp()));
const memory = process.memoryUsage();
console.log(
  JSON.stringify(
    {
      node: process.version,
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      secondsPerOperation: SECONDS,
      results,
      rssMb: Math.round(memory.rss / 1024 / 1024),
    },
    null,
    2,
  ),
);
