// The admin CLI against the real vault and referral-intake services (real Postgres, Kafka, Vault):
// `login` and its credentials file, a site admin's command with the stored session, operator
// commands only with the operator credential, and `logout`. Nothing here opens a database for
// the CLI: every command goes through the services' HTTP APIs.
import {
  freePort,
  ServiceProcess,
  serviceEnvFor,
  stackEnv,
  enrolTotp,
  signIn,
  TEST_OPERATOR_TOKEN,
  TestCli,
  totpCodeFor,
  uniqueName,
  waitFor,
} from '@cloud-connect/testing';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';

const env = stackEnv();
const vaultSchema = uniqueName('cli_vault');
const intakeSchema = uniqueName('cli_intake');
const site = String(700000000 + Math.floor(Math.random() * 99999999));
const adminEmail = `first-admin-${site}@clinic.ca`;
const password = 'correct horse battery staple 7';

describe('the admin CLI goes through the services’ APIs only (real vault and referral-intake)', () => {
  let vault: ServiceProcess;
  let intake: ServiceProcess;
  let cli: TestCli;
  let db: Client;
  const file = (): string => join(cli.configHome, 'cloud-connect', 'credentials.json');

  beforeAll(async () => {
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    vault = new ServiceProcess(
      'vault',
      await freePort(),
      serviceEnvFor('vault', env, { DATABASE_SCHEMA: vaultSchema }),
    ).start();
    await vault.waitReady(90000);
    intake = new ServiceProcess(
      'referral-intake',
      await freePort(),
      serviceEnvFor('referral-intake', env, {
        DATABASE_SCHEMA: intakeSchema,
        ADMIN_JWKS_URL: `${vault.url}/.well-known/jwks.json`,
        VAULT_SERVICE_URL: vault.url,
      }),
    ).start();
    await intake.waitReady(90000);
    // No DATABASE_URL anywhere in the CLI's environment: only where the services listen.
    cli = new TestCli(vault.url, { REFERRAL_INTAKE_URL: intake.url });
  }, 240000);

  afterAll(async () => {
    await Promise.all([vault?.stop(), intake?.stop()]);
    for (const schema of [vaultSchema, intakeSchema])
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
  });

  it('refuses operator commands without the operator credential, and with a wrong one', async () => {
    const args = ['site', 'create', '--number', site, '--name', 'Clinique CLI', '--admin-email', adminEmail];
    const without = await cli.raw(args);
    expect(without.code).toBe(1);
    expect(without.json).toEqual({ error: expect.objectContaining({ code: 'no-operator-credential' }) });
    expect(without.stderr).toContain('cloud-connect login --operator');

    const wrong = await cli.raw(['login', '--operator'], 'ccop_not-the-operator-token\n');
    expect(wrong.code).toBe(1);
    expect(wrong.json).toEqual({ error: expect.objectContaining({ code: 'operator-credential-refused' }) });
    expect(existsSync(file())).toBe(false);

    // A site admin's session is no operator credential either: the operator API answers 401.
    const asBearer = await fetch(`${vault.url}/operator/sites`, {
      method: 'POST',
      headers: { authorization: 'Bearer not-an-operator-token', 'content-type': 'application/json' },
      body: JSON.stringify({ siteNumber: site, name: 'x', adminEmail }),
    });
    expect(asBearer.status).toBe(401);
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM "${vaultSchema}".sites WHERE site_number = $1`,
      [site],
    );
    expect(rows[0].n).toBe(0);
  });

  it('registers a site and its first admin through the operator API, audited as the operator', async () => {
    const stored = await cli.raw(['login', '--operator'], `${TEST_OPERATOR_TOKEN}\n`);
    expect(stored.code).toBe(0);
    expect(stored.json).toEqual({ operator: expect.objectContaining({ name: 'operator:test' }) });
    expect(readFileSync(file(), 'utf8')).toContain(TEST_OPERATOR_TOKEN);
    expect(stored.stdout).not.toContain(TEST_OPERATOR_TOKEN);

    const created = await cli.raw([
      'site',
      'create',
      '--number',
      site,
      '--name',
      'Clinique CLI',
      '--admin-email',
      adminEmail,
      '--locale',
      'fr',
    ]);
    expect(created.code).toBe(0);
    expect(created.json).toEqual({ site: expect.objectContaining({ siteNumber: site, locale: 'fr' }) });

    const again = await cli.raw([
      'site',
      'create',
      '--number',
      site,
      '--name',
      'Again',
      '--admin-email',
      adminEmail,
    ]);
    expect(again.code).toBe(1);
    expect(again.json).toEqual({ error: expect.objectContaining({ code: 'site-exists' }) });

    const weak = await cli.raw(['user', 'create', '--email', adminEmail, '--site', site], 'short\n');
    expect(weak.code).toBe(2);
    expect(weak.stderr).toContain('a password has at least 12 characters');

    const first = await cli.raw(['user', 'create', '--email', adminEmail, '--site', site], `${password}\n`);
    expect(first.code).toBe(0);
    expect(first.json).toEqual({
      user: expect.objectContaining({ email: adminEmail, siteNumber: site, role: 'admin' }),
    });
    expect(first.stdout).not.toContain(password);

    // Audit entries arrive through the outbox and Kafka: wait (bounded) for both.
    await waitFor(
      'the operator audit entries',
      async () => {
        const { rows } = await db.query(
          `SELECT actor, action FROM "${vaultSchema}".audit_entries WHERE site_number = $1 ORDER BY seq`,
          [site],
        );
        const actions = rows.map((r: { actor: string; action: string }) => `${r.actor} ${r.action}`);
        return actions.includes('operator:test site.create') && actions.includes('operator:test user.create');
      },
      { timeoutMs: 30000 },
    );
  });

  it('says plainly when nobody is signed in, and refuses a wrong password with a non-zero exit', async () => {
    const notSignedIn = await cli.raw(['integration', 'list', '--site', site]);
    expect(notSignedIn.code).toBe(1);
    expect(notSignedIn.json).toEqual({ error: expect.objectContaining({ code: 'not-signed-in' }) });
    expect(notSignedIn.stderr).toContain('run `cloud-connect login`');

    const wrong = await cli.raw(['login', '--email', adminEmail], 'not the password at all\n');
    expect(wrong.code).toBe(1);
    expect(wrong.json).toEqual({ error: expect.objectContaining({ code: 'invalid-credentials' }) });
    expect(wrong.stderr).toContain('e-mail or password is incorrect');

    const noInput = await cli.raw(['login', '--email', adminEmail], '');
    expect(noInput.code).toBe(2);
    expect(noInput.json).toEqual({ error: expect.objectContaining({ code: 'missing-secret' }) });
  });

  it('logs in with the password and the authenticator code from stdin into a 0600 credentials file, and an admin command uses it', async () => {
    // Creating an integration key needs two-step sign-in: the admin sets up an authenticator app.
    await enrolTotp(vault.url, adminEmail, await signIn(vault.url, adminEmail, password));
    const noCode = await cli.raw(['login', '--email', adminEmail], `${password}\n`);
    expect(noCode.code).toBe(2);
    expect(noCode.stderr).toContain('Authenticator code');
    const badCode = await cli.raw(['login', '--email', adminEmail, '--code', '000000'], `${password}\n`);
    expect(badCode.json).toEqual({ error: expect.objectContaining({ code: 'invalid-code' }) });
    const login = await cli.raw(
      ['login', '--email', adminEmail],
      `${password}\n${await totpCodeFor(adminEmail)}\n`,
    );
    expect(login.code).toBe(0);
    expect(login.json).toEqual({ signedIn: expect.objectContaining({ email: adminEmail }) });
    expect(login.stdout).not.toContain(password);
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    expect(statSync(join(cli.configHome, 'cloud-connect')).mode & 0o777).toBe(0o700);
    const saved = JSON.parse(readFileSync(file(), 'utf8'));
    expect(saved.admin).toEqual(expect.objectContaining({ email: adminEmail, vaultUrl: vault.url }));
    expect(JSON.stringify(saved)).not.toContain(password);

    const created = await cli.raw(['integration', 'create', '--site', site, '--name', 'CHR']);
    expect(created.code).toBe(0);
    expect(created.json).toEqual(expect.objectContaining({ apiKey: expect.any(String) }));
    const listed = await cli.raw(['integration', 'list', '--site', site]);
    expect(listed.code).toBe(0);
    expect(listed.json['integrations']).toEqual([expect.objectContaining({ name: 'CHR' })]);

    const whoami = await cli.raw(['whoami']);
    expect(whoami.json).toEqual(
      expect.objectContaining({ admin: expect.objectContaining({ email: adminEmail, expired: false }) }),
    );
    expect(whoami.stdout).not.toContain(saved.admin.accessToken);

    // Another site: the service refuses, and the CLI says why.
    const elsewhere = await cli.raw(['integration', 'list', '--site', '999999999']);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain('not admin of this site');
  });

  it('renews an expired access token with the session, and says the session expired without one', async () => {
    const saved = JSON.parse(readFileSync(file(), 'utf8'));
    expect(saved.admin.refreshToken).toEqual(expect.any(String));
    const past = new Date(Date.now() - 1000).toISOString();
    writeFileSync(file(), JSON.stringify({ ...saved, admin: { ...saved.admin, expiresAt: past } }), {
      mode: 0o600,
    });
    const renewed = await cli.raw(['integration', 'list', '--site', site]);
    expect(renewed.code).toBe(0);
    const stored = JSON.parse(readFileSync(file(), 'utf8'));
    expect(Date.parse(stored.admin.expiresAt)).toBeGreaterThan(Date.now());
    expect(stored.admin.accessToken).not.toBe(saved.admin.accessToken);
    const withoutSession = { ...saved.admin };
    delete withoutSession.refreshToken;
    writeFileSync(file(), JSON.stringify({ ...saved, admin: { ...withoutSession, expiresAt: past } }), {
      mode: 0o600,
    });
    const expired = await cli.raw(['integration', 'list', '--site', site]);
    expect(expired.code).toBe(1);
    expect(expired.json).toEqual({ error: expect.objectContaining({ code: 'session-expired' }) });
    expect(expired.stderr).toContain('cloud-connect login');
    // A token the service no longer accepts (here: tampered) is reported the same way.
    writeFileSync(
      file(),
      JSON.stringify({ ...saved, admin: { ...saved.admin, accessToken: `${saved.admin.accessToken}x` } }),
      { mode: 0o600 },
    );
    const refused = await cli.raw(['integration', 'list', '--site', site]);
    expect(refused.code).toBe(1);
    expect(refused.json).toEqual({ error: expect.objectContaining({ code: 'session-expired' }) });
    writeFileSync(file(), JSON.stringify(saved), { mode: 0o600 });
  });

  it('logs out: the session is gone (the operator credential only with --operator)', async () => {
    const out = await cli.raw(['logout']);
    expect(out.code).toBe(0);
    expect(out.json).toEqual({ signedOut: true, sessionsEnded: 1, operatorCredentialKept: true });
    expect(JSON.parse(readFileSync(file(), 'utf8')).admin).toBeUndefined();
    const after = await cli.raw(['integration', 'list', '--site', site]);
    expect(after.json).toEqual({ error: expect.objectContaining({ code: 'not-signed-in' }) });
    const all = await cli.raw(['logout', '--operator']);
    expect(all.code).toBe(0);
    expect(existsSync(file())).toBe(false);
    const operatorGone = await cli.raw(['user', 'grant', '--email', adminEmail, '--site', site]);
    expect(operatorGone.json).toEqual({ error: expect.objectContaining({ code: 'no-operator-credential' }) });
  });
});
