#!/usr/bin/env node
// Runs the integration tier in N shards at once, each on its own local stack (Postgres, Kafka,
// Vault-API server, SMTP sink), so suites that start services, restart brokers or SIGKILL
// processes never see each other's messages, consumer groups or rows. Shard 1 uses the stack
// already up (the default CC_* settings); shard k > 1 gets its own state directory and ports,
// started here and stopped here. Suites are dealt to shards by their last measured duration
// (kept in the cache directory; seeded from scripts/integration-durations.json), longest first.
//
//   node scripts/integration-tests.mjs [--shards N] [--out tmp/jest-integration.json] [filter …]
//
// With filters, only suites whose path contains one of them run.
// CC_INTEGRATION_SHARDS sets N (default 2; 1 runs everything in band on the stack that is up).
// Each shard's jest output goes to tmp/jest-integration-<k>.log and is echoed with a [k] prefix.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] ? args[at + 1] : fallback;
};
const shardCount = Math.max(1, Number(option('--shards', process.env.CC_INTEGRATION_SHARDS ?? '2')) || 1);
const outFile = join(root, option('--out', 'tmp/jest-integration.json'));
const filters = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
const cacheDir =
  process.env.CC_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cloud-connect');
const durationsFile = join(cacheDir, 'integration-durations.json');
const seedFile = join(root, 'scripts', 'integration-durations.json');
const logRoot = process.env.CC_TEST_LOG_DIR ?? join(root, 'tmp', 'test-logs');

// Default ports of deploy/local/stack.sh; shard k adds (k - 1) * 100 to each.
const DEFAULT_PORTS = {
  CC_POSTGRES_PORT: 55432,
  CC_KAFKA_PORT: 59092,
  CC_KAFKA_CONTROLLER_PORT: 59093,
  CC_VAULT_PORT: 58200,
  CC_VAULT_CLUSTER_PORT: 58201,
  CC_SMTP_PORT: 52525,
  CC_MAIL_API_PORT: 58025,
};

function run(command, argv, env, onLine) {
  return new Promise((resolve) => {
    const child = spawn(command, argv, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const feed = (chunk) => {
      text += chunk.toString();
      const lines = text.split('\n');
      text = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    child.on('close', (code) => {
      if (text) onLine(text);
      resolve(code ?? 1);
    });
  });
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

async function listSuites() {
  const lines = [];
  const code = await run(
    'npx',
    ['jest', '--selectProjects', 'integration', '--listTests'],
    process.env,
    (l) => lines.push(l),
  );
  if (code !== 0) throw new Error(`jest --listTests failed:\n${lines.join('\n')}`);
  return lines.filter((l) => l.endsWith('.int-spec.ts')).map((l) => relative(root, l));
}

/** Longest-first greedy: each suite goes to the shard with the least work so far. */
function deal(suites, shards) {
  const known = { ...(readJson(seedFile) ?? {}), ...(readJson(durationsFile) ?? {}) };
  const values = Object.values(known).filter((v) => typeof v === 'number');
  const typical = values.length ? values.sort((a, b) => a - b)[Math.floor(values.length / 2)] : 30;
  const weighted = suites.map((s) => ({ suite: s, seconds: known[s] ?? typical }));
  weighted.sort((a, b) => b.seconds - a.seconds || a.suite.localeCompare(b.suite));
  const plan = Array.from({ length: shards }, () => ({ suites: [], seconds: 0 }));
  for (const w of weighted) {
    const target = plan.reduce((min, p) => (p.seconds < min.seconds ? p : min), plan[0]);
    target.suites.push(w.suite);
    target.seconds += w.seconds;
  }
  return plan.filter((p) => p.suites.length > 0);
}

function shardEnv(k) {
  const env = { ...process.env, CC_TEST_LOG_DIR: join(logRoot, `shard-${k}`) };
  if (k === 1) return env;
  env.CC_STATE_DIR = join(cacheDir, `stack-shard-${k}`);
  for (const [name, port] of Object.entries(DEFAULT_PORTS)) env[name] = String(port + (k - 1) * 100);
  return env;
}

async function stack(k, action) {
  const prefix = `[${k}] `;
  const code = await run('bash', ['deploy/local/stack.sh', action], shardEnv(k), (l) =>
    process.stderr.write(prefix + l + '\n'),
  );
  if (code !== 0) throw new Error(`stack ${action} for shard ${k} failed (exit ${code})`);
}

async function main() {
  mkdirSync(join(root, 'tmp'), { recursive: true });
  const all = await listSuites();
  const suites = filters.length ? all.filter((s) => filters.some((f) => s.includes(f))) : all;
  const plan = deal(suites, shardCount);
  plan.forEach((p, i) =>
    console.log(
      `integration shard ${i + 1}: ${p.suites.length} suites, ~${Math.round(p.seconds)} s expected`,
    ),
  );

  const extra = plan.map((_, i) => i + 1).filter((k) => k > 1);
  const stopExtra = () =>
    Promise.all(extra.map((k) => stack(k, 'down').catch((e) => console.error(String(e)))));
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => void stopExtra().finally(() => process.exit(130)));
  }
  let results = [];
  try {
    // Shard 1 starts at once on the stack that is up; the others start when their stack is ready.
    results = await Promise.all(
      plan.map(async (p, i) => {
        const k = i + 1;
        const json = join(root, 'tmp', `jest-integration-${k}.json`);
        rmSync(json, { force: true });
        if (k > 1) {
          try {
            await stack(k, 'up');
          } catch (error) {
            console.error(String(error));
            return { k, code: 1, json };
          }
        }
        const log = join(root, 'tmp', `jest-integration-${k}.log`);
        const env = shardEnv(k);
        rmSync(env.CC_TEST_LOG_DIR, { recursive: true, force: true });
        mkdirSync(env.CC_TEST_LOG_DIR, { recursive: true });
        const lines = [];
        const code = await run(
          'npx',
          [
            'jest',
            '--selectProjects',
            'integration',
            '--runInBand',
            // Each suite stops what it started; a handle one left open anyway must not keep the
            // shard alive after its report is written (the report says what passed).
            '--forceExit',
            '--json',
            `--outputFile=${json}`,
            '--runTestsByPath',
            ...p.suites,
          ],
          env,
          (line) => {
            lines.push(line);
            process.stdout.write(`[${k}] ${line}\n`);
          },
        );
        writeFileSync(log, lines.join('\n') + '\n');
        return { k, code, json };
      }),
    );
  } finally {
    await stopExtra();
  }

  // One report in jest's shape (the totals step and readers of tmp/jest-integration.json use it).
  const merged = {
    numPassedTests: 0,
    numFailedTests: 0,
    numPendingTests: 0,
    numTodoTests: 0,
    numRuntimeErrorTestSuites: 0,
    numTotalTestSuites: 0,
    testResults: [],
  };
  const durations = readJson(durationsFile) ?? {};
  for (const r of results) {
    const report = readJson(r.json);
    if (!report) {
      merged.numRuntimeErrorTestSuites += 1;
      continue;
    }
    for (const key of Object.keys(merged)) if (typeof report[key] === 'number') merged[key] += report[key];
    merged.testResults.push(...report.testResults);
    for (const t of report.testResults) {
      const seconds = (t.endTime - t.startTime) / 1000;
      if (t.status === 'passed' && seconds > 0) durations[relative(root, t.name)] = Math.round(seconds);
    }
  }
  writeFileSync(outFile, JSON.stringify(merged));
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(durationsFile, JSON.stringify(durations, null, 2) + '\n');
  for (const t of merged.testResults) {
    if (t.status !== 'passed') console.log(`FAILED: ${relative(root, t.name)}`);
  }
  console.log(
    `integration: ${merged.numPassedTests} passed, ${merged.numFailedTests} failed, ${merged.numPendingTests} skipped, ${merged.numRuntimeErrorTestSuites} suites did not run`,
  );
  process.exit(results.every((r) => r.code === 0) && existsSync(outFile) ? 0 : 1);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
