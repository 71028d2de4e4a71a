// The demo admin's authenticator app, for scripts/demo.sh (creating credentials and the SEK need
// a second factor: docs/security.md). The key is kept in the stack's secrets directory (mode 600),
// beside the admin's password; a code is never used twice (the vault service refuses a replayed
// code), so a second code within the same 30-s step waits for the next one.
//   node scripts/demo-mfa.mjs setup <key-file>   sets up the app through `cloud-connect mfa setup`
//   node scripts/demo-mfa.mjs code <key-file>    prints a fresh code
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { Secret, TOTP } = require('otpauth');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [action, keyFile] = process.argv.slice(2);
const STEP_MS = 30_000;

async function freshCode(key) {
  const lastFile = `${keyFile}.last-step`;
  const last = existsSync(lastFile) ? Number(readFileSync(lastFile, 'utf8')) : -1;
  let step = Math.floor(Date.now() / STEP_MS);
  if (step <= last) {
    await new Promise((r) => setTimeout(r, (last + 1) * STEP_MS - Date.now() + 200));
    step = Math.floor(Date.now() / STEP_MS);
  }
  writeFileSync(lastFile, String(step), { mode: 0o600 });
  return new TOTP({ secret: Secret.fromBase32(key), digits: 6, period: 30, algorithm: 'SHA1' }).generate({
    timestamp: step * STEP_MS,
  });
}

if (action === 'code') {
  process.stdout.write(await freshCode(readFileSync(keyFile, 'utf8').trim()));
} else if (action === 'setup') {
  const cli = spawn(process.execPath, [join(root, 'dist/tools/cli/src/main.js'), 'mfa', 'setup'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let said = '';
  cli.stderr.on('data', (chunk) => (said += chunk.toString()));
  // The key arrives on stderr before the CLI asks for the first code.
  const key = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no key from `cloud-connect mfa setup`')), 30000);
    cli.stderr.on('data', () => {
      const found = /key: ([A-Z2-7]+)/.exec(said)?.[1];
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
  });
  writeFileSync(keyFile, key, { mode: 0o600 });
  const code = await freshCode(key);
  const exit = new Promise((resolve) => cli.on('exit', resolve));
  cli.stdin.end(`${code}\n`);
  const status = await exit;
  if (status !== 0) {
    process.stderr.write(
      `demo: setting up the admin's authenticator failed: ${said.split('\n').slice(-3).join(' ')}\n`,
    );
    process.exit(1);
  }
} else {
  process.stderr.write('usage: node scripts/demo-mfa.mjs setup|code <key-file>\n');
  process.exit(2);
}
