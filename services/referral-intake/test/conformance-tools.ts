/* eslint-disable @typescript-eslint/no-explicit-any -- the tools answer JSON */
// Third-party FHIR clients pointed at referral-intake from the integration suites: HAPI FHIR's
// validator and generic client (tools/fhir-conformance, Java) and an authlib SMART Backend
// Services client (tools/smart-client, Python), both built and cached by scripts/fhir-conformance.sh.
import { REPO_ROOT } from '@cloud-connect/testing';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Json = Record<string, any>;

/** A cold build downloads HAPI FHIR from Maven Central (CI builds it in an earlier step). */
export const CONFORMANCE_BUILD_MS = 20 * 60 * 1000;
/** The validator loads the R4 definitions (~30 s of CPU); a loaded CI machine takes longer. */
const RUN_MS = 300000;

export interface ConformanceTools {
  hapiValidate(files: Record<string, unknown>): Promise<{ code: number; issues: Json[]; summary: Json }>;
  hapiPage(fhirBase: string, token: string, count: number): Promise<Json>;
  smartClient(fhirBase: string, clientId: string, privateJwk: unknown, scope: string): Promise<Json>;
}

function run(file: string, args: string[]): Promise<{ code: number; lines: Json[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: RUN_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const lines = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Json);
      resolve({ code: error ? Number(error.code ?? 1) : 0, lines, stderr });
    });
  });
}

export function conformanceTools(): ConformanceTools {
  const setup = (what: string) =>
    execFileSync('bash', [join(REPO_ROOT, 'scripts', 'fhir-conformance.sh'), what], {
      encoding: 'utf8',
      timeout: CONFORMANCE_BUILD_MS,
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
  const jar = setup('jar');
  const python = setup('python');
  const scratch = mkdtempSync(join(tmpdir(), 'fhir-conformance-'));
  return {
    async hapiValidate(files) {
      const paths = Object.entries(files).map(([name, body]) => {
        const path = join(scratch, name);
        writeFileSync(path, JSON.stringify(body));
        return path;
      });
      const { code, lines, stderr } = await run('java', ['-jar', jar, 'validate', ...paths]);
      // Everything HAPI said (warnings and information too), kept with the suite's logs.
      const reportDir = process.env['CC_TEST_LOG_DIR'] ?? scratch;
      mkdirSync(reportDir, { recursive: true });
      writeFileSync(join(reportDir, 'hapi-validator-report.json'), JSON.stringify(lines, null, 1));
      const summary = lines.find((l) => 'validated' in l);
      if (!summary) throw new Error(`HAPI validator gave no summary: ${stderr}`);
      return { code, issues: lines.filter((l) => 'severity' in l), summary };
    },
    async hapiPage(fhirBase, token, count) {
      const { code, lines, stderr } = await run('java', [
        '-jar',
        jar,
        'page',
        fhirBase,
        token,
        String(count),
      ]);
      if (code !== 0 || !lines[0]) throw new Error(`HAPI generic client failed (${code}): ${stderr}`);
      return lines[0];
    },
    async smartClient(fhirBase, clientId, privateJwk, scope) {
      const keyFile = join(scratch, `${clientId}.jwk.json`);
      writeFileSync(keyFile, JSON.stringify(privateJwk), { mode: 0o600 });
      const script = join(REPO_ROOT, 'tools', 'smart-client', 'smart_backend_client.py');
      const { code, lines, stderr } = await run(python, [script, fhirBase, clientId, keyFile, scope]);
      if (code !== 0 || !lines[0]) throw new Error(`authlib client failed (${code}): ${stderr}`);
      return lines[0];
    },
  };
}
