// Benchmark of the OAuth token endpoint and the FHIR pull API: `npm run bench:oauth` (needs the
// local stack up and a build). Starts the vault service (it encrypts the bundles under the site's
// SEK; a random SEK is stored first) and referral-intake from the build against the local stack
// with fresh schemas, stores BENCH_REFERRALS eReferrals through the real inbound endpoint, issues an
// OAuth client through the CLI, then measures over loopback, for a bounded time per level:
//   token/basic   POST /oauth/token, client_secret_basic (Argon2id once per secret, then cached)
//   token/jwt     POST /oauth/token, private_key_jwt (RS384 assertion signed per request, jti stored)
//   search        GET /fhir/ServiceRequest?_count=50 (decrypts and extracts 50 bundles per page)
//   read          GET /fhir/ServiceRequest/{id}
// Prints requests/s, p50/p95/p99, the service's CPU and RSS. Prints numbers; it does not pass or fail.
//   BENCH_SECONDS (default 5) per level, BENCH_CONCURRENCY (default 1,8,32), BENCH_REFERRALS (default 300).
import { randomUUID } from 'node:crypto';
import { writeFileSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBuild, startBenchStack, usage } from './harness.mjs';

const require = createRequire(import.meta.url);
const fixtures = fromBuild('libs/testing/src/fixtures/ereferral-bundles.js');
const { SignJWT, exportJWK, generateKeyPair } = require('jose');
const { Client } = require('pg');

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const levels = (process.env.BENCH_CONCURRENCY ?? '1,8,32').split(',').map(Number);
const referralCount = Math.min(Number(process.env.BENCH_REFERRALS ?? 300), 5000);
const site = '9002';
const bench = await startBenchStack({ label: 'oauth', site });
const { env, port, base } = bench;
const service = bench.startIntake({ FHIR_SNAPSHOT_LAG_MS: '0' });
await bench.waitIntakeReady();
const { apiKey } = await bench.cli(['integration', 'create', '--site', site, '--name', 'bench']);
const { publicKey, privateKey } = await generateKeyPair('RS384');
const jwksFile = join(mkdtempSync(join(tmpdir(), 'bench-oauth-')), 'jwks.json');
writeFileSync(
  jwksFile,
  JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS384' }] }),
);
const issued = await bench.cli([
  'oauth-client',
  'create',
  '--site',
  site,
  '--name',
  'bench',
  '--jwks-file',
  jwksFile,
]);
const clientId = issued.client.clientId;
const basicHeader = `Basic ${Buffer.from(`${clientId}:${issued.clientSecret}`).toString('base64')}`;

const db = new Client({ connectionString: env.DATABASE_URL });
await db.connect();

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
function request(method, path, headers = {}, body = undefined) {
  return new Promise((done) => {
    const started = process.hrtime.bigint();
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        agent,
        headers: body ? { ...headers, 'content-length': Buffer.byteLength(body) } : headers,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          done({
            status: res.statusCode,
            ms: Number(process.hrtime.bigint() - started) / 1e6,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', () => done({ status: 0, ms: Number(process.hrtime.bigint() - started) / 1e6, body: '' }));
    req.end(body);
  });
}

const form = 'application/x-www-form-urlencoded';
const tokenBasic = () =>
  request(
    'POST',
    '/oauth/token',
    { authorization: basicHeader, 'content-type': form },
    'grant_type=client_credentials',
  );
async function tokenJwt() {
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'RS384', kid: 'bench-1', typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(`${base}/oauth/token`)
    .setIssuedAt(now)
    .setExpirationTime(now + 120)
    .sign(privateKey);
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  }).toString();
  return request('POST', '/oauth/token', { 'content-type': form }, body);
}

async function level(name, concurrency, durationMs, call) {
  const latencies = [];
  const statuses = new Map();
  const deadline = Date.now() + durationMs;
  const before = usage(service.pid);
  const t0 = process.hrtime.bigint();
  let peakRss = before.rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, usage(service.pid).rss)), 250);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const { status, ms } = await call();
        latencies.push(ms);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  clearInterval(sampler);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = usage(service.pid);
  latencies.sort((a, b) => a - b);
  const pct = (p) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(1);
  return {
    endpoint: name,
    concurrency,
    'req/s': Math.round((statuses.get(200) ?? 0) / wall),
    'p50 ms': pct(50),
    'p95 ms': pct(95),
    'p99 ms': pct(99),
    'service CPU (cores)': ((after.cpuSeconds - before.cpuSeconds) / wall).toFixed(2),
    'peak RSS MB': Math.round(peakRss / 1e6),
    non200:
      [...statuses]
        .filter(([s]) => s !== 200)
        .map(([s, k]) => `${s}:${k}`)
        .join(' ') || '-',
  };
}

try {
  await bench.waitIntakeReady();
  process.stderr.write(`bench: storing ${referralCount} referrals through POST /public/ocean/fhir_bundles\n`);
  const ids = [];
  for (let i = 0; i < referralCount; i += 16) {
    await Promise.all(
      Array.from({ length: Math.min(16, referralCount - i) }, async () => {
        const bundle = fixtures.addServiceRequestWithQuirks();
        ids.push(bundle.entry.find((e) => e.resource.resourceType === 'ServiceRequest').resource.id);
        const r = await request(
          'POST',
          '/public/ocean/fhir_bundles',
          { 'content-type': 'application/fhir+json', 'referral-integration-api-key': apiKey },
          JSON.stringify(bundle),
        );
        if (r.status !== 200) throw new Error(`inbound post answered ${r.status}`);
      }),
    );
  }
  const token = JSON.parse((await tokenBasic()).body).access_token;
  const bearer = { authorization: `Bearer ${token}` };
  let n = 0;
  const scenarios = {
    'token/basic': tokenBasic,
    'token/jwt': tokenJwt,
    search: () => request('GET', '/fhir/ServiceRequest?_count=50', bearer),
    read: () => request('GET', `/fhir/ServiceRequest/${ids[n++ % ids.length]}`, bearer),
  };
  process.stderr.write('bench: warming up (2 s)\n');
  for (const call of Object.values(scenarios)) await level('warm-up', 4, 500, call);
  const rows = [];
  for (const [name, call] of Object.entries(scenarios)) {
    for (const c of levels) {
      process.stderr.write(`bench: ${name} at concurrency ${c} for ${seconds} s\n`);
      rows.push(await level(name, c, seconds * 1000, call));
    }
  }
  console.log(
    `OAuth/FHIR pull benchmark: ${seconds}s per level, loopback, ${cpus().length} CPUs, node ${process.version}, ${referralCount} referrals stored`,
  );
  console.table(rows);
} finally {
  agent.destroy();
  await bench.stop(db);
  await db.end();
}
