#!/usr/bin/env node
// The last lines of `npm test`: the totals over every tier, and for each failed test its suite,
// title and the head of its failure message, so that the tail of a CI log says what broke.
//
//   node scripts/test-summary.mjs tmp/jest-unit.json tmp/jest-integration.json …
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

const MAX_FAILURES = 12;
const MESSAGE_LINES = 14;
// Jest colours its messages; the escape sequences are dropped for a plain log.
const ansi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    failed += 1;
    failures.push({ where: file, title: 'no report written', message: '' });
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests + (report.numRuntimeErrorTestSuites || 0);
  skipped += report.numPendingTests + report.numTodoTests;
  for (const suite of report.testResults ?? []) {
    const where = relative(process.cwd(), suite.name ?? file);
    const failedTests = (suite.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const test of failedTests) {
      failures.push({
        where,
        title: test.fullName ?? test.title,
        message: (test.failureMessages ?? []).join('\n'),
      });
    }
    // A suite that failed outside any test (set-up, a thrown beforeAll) has its message here.
    if (suite.status === 'failed' && failedTests.length === 0) {
      failures.push({ where, title: 'the suite failed outside its tests', message: suite.message ?? '' });
    }
  }
}

for (const failure of failures.slice(0, MAX_FAILURES)) {
  console.log(`\nFAILED TEST: ${failure.where} › ${failure.title}`);
  const lines = failure.message
    .replace(ansi, '')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
  for (const line of lines.slice(0, MESSAGE_LINES)) console.log(`    ${line}`);
  if (lines.length > MESSAGE_LINES)
    console.log(`    … (${lines.length - MESSAGE_LINES} more lines in the tier's log)`);
}
if (failures.length > MAX_FAILURES)
  console.log(`\n… and ${failures.length - MAX_FAILURES} more failed tests`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
