// The chart's bootstrap Job: `node dist/services/vault/src/bootstrap.js` registers the first site
// and its admin in the vault schema (real Postgres), with the site.registered event and audit
// entries in the outbox; run again it changes nothing; bad settings change nothing either.
import { distDir, stackEnv, uniqueName } from '@cloud-connect/testing';
import argon2 from 'argon2';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';

const env = stackEnv();
const schema = `${uniqueName('t')}_vault`;
const badSchema = `${schema}_bad`;
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const site = String(700000000 + Math.floor(Math.random() * 99999999));
const db = new Client({ connectionString: env.DATABASE_URL });

function runJob(
  extra: Record<string, string>,
): Promise<{ code: number; out: Record<string, unknown>; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(distDir(), 'services', 'vault', 'src', 'bootstrap.js')],
      {
        env: {
          PATH: process.env['PATH'] ?? '',
          DATABASE_URL: env.DATABASE_URL,
          DATABASE_SCHEMA: schema,
          BOOTSTRAP_SITE_NUMBER: site,
          BOOTSTRAP_SITE_NAME: 'Clinique du Parc',
          BOOTSTRAP_SITE_LOCALE: 'fr',
          BOOTSTRAP_SITE_TIMEZONE: 'America/Montreal',
          BOOTSTRAP_ADMIN_EMAIL: `admin-${site}@test.ca`,
          BOOTSTRAP_CLINICAL_ADMIN_EMAIL: '',
          BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
          ...extra,
        },
        timeout: 60000,
      },
      (error, stdout, stderr) =>
        resolve({
          code: error ? Number(error.code ?? 1) : 0,
          out: stdout.trim() ? (JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>) : {},
          stdout,
          stderr,
        }),
    );
  });
}

async function outboxTypes(s: string): Promise<string[]> {
  const rows = await db.query<{ type: string; action: string | null }>(
    `SELECT envelope->>'type' AS type, envelope->'payload'->>'action' AS action FROM "${s}".outbox ORDER BY id`,
  );
  return rows.rows.map((r) => (r.action ? `${r.type}:${r.action}` : r.type));
}

beforeAll(async () => {
  await db.connect();
});

afterAll(async () => {
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db.query(`DROP SCHEMA IF EXISTS "${badSchema}" CASCADE`);
  await db.end();
});

it('registers the first site and its admin, audited, and changes nothing when run again', async () => {
  const first = await runJob({});
  expect(first.code).toBe(0);
  expect(first.out).toEqual({
    bootstrap: {
      site: { siteNumber: site, outcome: 'created' },
      admin: { email: `admin-${site}@test.ca`, outcome: 'created' },
    },
  });
  const sites = await db.query(`SELECT name, locale, timezone, created_by FROM "${schema}".sites`);
  expect(sites.rows).toEqual([
    {
      name: 'Clinique du Parc',
      locale: 'fr',
      timezone: 'America/Montreal',
      created_by: 'operator:bootstrap',
    },
  ]);
  const users = await db.query<{ password_hash: string; role: string; site_number: string }>(
    `SELECT u.password_hash, r.role, r.site_number FROM "${schema}".users u JOIN "${schema}".site_roles r ON r.user_id = u.id`,
  );
  expect(users.rows).toHaveLength(1);
  expect(users.rows[0]).toMatchObject({ role: 'admin', site_number: site });
  expect(await argon2.verify(users.rows[0]!.password_hash, PASSWORD)).toBe(true);
  const events = await outboxTypes(schema);
  expect(events).toEqual(expect.arrayContaining(['site.registered', 'audit.recorded:user.create']));

  // A second run (every helm upgrade): nothing new, the password is not reset.
  const again = await runJob({ BOOTSTRAP_ADMIN_PASSWORD: 'another-password-123' });
  expect(again.code).toBe(0);
  expect(again.out).toEqual({
    bootstrap: {
      site: { siteNumber: site, outcome: 'exists' },
      admin: { email: `admin-${site}@test.ca`, outcome: 'exists' },
    },
  });
  expect(await outboxTypes(schema)).toEqual(events);
  const hash = await db.query<{ password_hash: string }>(`SELECT password_hash FROM "${schema}".users`);
  expect(await argon2.verify(hash.rows[0]!.password_hash, PASSWORD)).toBe(true);
  // No secret in what the Job prints (its output is the Job's log).
  expect(first.stdout + first.stderr + again.stdout + again.stderr).not.toContain(PASSWORD);
}, 120000);

it('refuses bad settings with a specific error and registers nothing', async () => {
  const badSite = await runJob({ DATABASE_SCHEMA: badSchema, BOOTSTRAP_SITE_NUMBER: '0123' });
  expect(badSite.code).toBe(1);
  expect(badSite.out).toEqual({
    error: { code: 'invalid-site', message: expect.stringContaining('not starting with 0') },
  });
  const shortPassword = await runJob({ DATABASE_SCHEMA: badSchema, BOOTSTRAP_ADMIN_PASSWORD: 'short' });
  expect(shortPassword.code).toBe(1);
  expect(shortPassword.out).toEqual({
    error: { code: 'invalid-user', message: expect.stringContaining('at least 12 characters') },
  });
  const missing = await runJob({ DATABASE_SCHEMA: badSchema, BOOTSTRAP_ADMIN_EMAIL: '' });
  expect(missing.code).toBe(1);
  expect(missing.out).toEqual({
    error: { code: 'invalid-config', message: expect.stringContaining('BOOTSTRAP_ADMIN_EMAIL') },
  });
  // Refused before the database is touched: not even the schema exists.
  const tables = await db.query(
    `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1`,
    [badSchema],
  );
  expect(tables.rows[0]).toEqual({ n: 0 });
}, 120000);
