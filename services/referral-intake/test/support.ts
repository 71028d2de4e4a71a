/* eslint-disable @typescript-eslint/no-explicit-any -- CLI answers are JSON */
// What the referral-intake integration suites share: the admin CLI as a child process, and
// fhir-kit-client (ESM only) loaded as CommonJS.
import { distDir, REPO_ROOT } from '@cloud-connect/testing';
import type { Client as FhirClient } from 'fhir-kit-client';
import { transformSync } from '@swc/core';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Json = Record<string, any>;

/** Runs `cloud-connect <args>` against the test's schemas; its JSON answer, exit code, stderr. */
export function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; json: Json; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(distDir(), 'tools', 'cli', 'src', 'main.js'), ...args],
      { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 60000 },
      (error, stdout, stderr) => {
        let json: Json = {};
        try {
          json = JSON.parse(stdout) as Json;
        } catch {
          json = {};
        }
        resolve({ code: error ? Number(error.code ?? 1) : 0, json, stderr });
      },
    );
  });
}

/**
 * fhir-kit-client 2 ships ESM only and Jest here runs CommonJS: convert its dist files, unchanged
 * otherwise, to CommonJS with SWC (as Jest compiles our own code) into node_modules/.cache.
 */
export function loadFhirKitClient(): typeof FhirClient {
  const source = join(REPO_ROOT, 'node_modules', 'fhir-kit-client', 'dist');
  const target = join(REPO_ROOT, 'node_modules', '.cache', 'fhir-kit-client-cjs');
  mkdirSync(target, { recursive: true });
  writeFileSync(join(target, 'package.json'), '{"type":"commonjs"}');
  for (const file of readdirSync(source).filter((f) => f.endsWith('.js'))) {
    const { code } = transformSync(readFileSync(join(source, file), 'utf8'), {
      filename: file,
      module: { type: 'commonjs' },
      jsc: { target: 'es2022' },
    });
    writeFileSync(join(target, file), code);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path computed at run time
  return (require(join(target, 'index.js')) as { Client: typeof FhirClient }).Client;
}
