// SEK custody, the audit trail, alerts through the notifier, PHI envelope encryption and a Vault
// outage, with the vault and notifier services as real processes on the real stack (Postgres,
// Kafka, OpenBao, SMTP sink). Ends by grepping every captured service log for keys and PHI.
import { ServiceTokenIssuer } from '@cloud-connect/auth';
import { PhiClientError, VaultPhiCipher } from '@cloud-connect/phi-client';
import {
  appRoleFor,
  createUser,
  freePort,
  MailInbox,
  ServiceProcess,
  serviceEnvFor,
  signIn,
  sleep,
  stackCtl,
  stackEnv,
  storedTestSeks,
  testLogDir,
  TEST_OPERATOR_TOKEN,
  testServiceKeys,
  TestCli,
  uniqueName,
  waitFor,
} from '@cloud-connect/testing';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';

const env = stackEnv();
const prefix = uniqueName('t');
const vaultSchema = `${prefix}_vault`;
const notifierSchema = `${prefix}_notifier`;
const inbox = new MailInbox(env.MAIL_API_URL);
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const siteNumber = (): string => String(600000000 + Math.floor(Math.random() * 99999999));
const A = siteNumber();
const B = siteNumber();
const clinicalAdmin = `clinique-${A}@test.ca`;
const email = (who: string): string => `${who}-${A}@test.ca`;
const newSek = (): string => randomBytes(32).toString('base64');
/** Every SEK and PHI marker this suite used: none may appear in any log. */
const secrets: string[] = [PASSWORD, env.VAULT_TOKEN, TEST_OPERATOR_TOKEN];

let operatorCli: TestCli;

/** The CLI as the site admin `who` (`login` with the password piped, and the app's code), then `args`. */
async function cliAs(
  who: string,
  args: string[],
  stdin = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  const login = await operatorCli.raw(
    ['login', '--email', email(who), ...(await TestCli.codeArgs(email(who)))],
    `${PASSWORD}\n`,
  );
  if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
  return operatorCli.raw(args, stdin);
}

/**
 * The vault service runs under an AppRole bound to its policy file only
 * (deploy/vault/policies/vault-service.hcl): every test below also proves that policy suffices.
 */
async function appRoleEnv(policy: string): Promise<Record<string, string>> {
  const role = await appRoleFor(env, policy, `test-${prefix}`);
  secrets.push(role.secretId);
  return role.env;
}

describe('SEK custody, audit trail, alerts and PHI crypto (real services and stack)', () => {
  let vault: ServiceProcess;
  let notifier: ServiceProcess;
  let db: Client;
  const tokens: Record<string, string> = {};
  let serviceToken: string;

  async function api(
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
    const response = await fetch(`${vault.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15000),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      headers: response.headers,
    };
  }

  const fresh = async (who: string): Promise<string> => signIn(vault.url, email(who), PASSWORD);

  async function auditEntries(site: string, token: string, query = ''): Promise<Record<string, unknown>[]> {
    const result = await api('GET', `/sites/${site}/audit?limit=10000${query}`, token);
    expect(result.status).toBe(200);
    return result.body['entries'] as Record<string, unknown>[];
  }

  beforeAll(async () => {
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    vault = new ServiceProcess(
      'vault',
      await freePort(),
      serviceEnvFor('vault', env, { DATABASE_SCHEMA: vaultSchema, ...(await appRoleEnv('vault-service')) }),
    ).start();
    notifier = new ServiceProcess(
      'notifier',
      await freePort(),
      serviceEnvFor('notifier', env, { DATABASE_SCHEMA: notifierSchema }),
    ).start();
    await Promise.all([vault.waitReady(90000), notifier.waitReady(90000)]);
    operatorCli = new TestCli(vault.url);
    for (const [site, locale, clinical] of [
      [A, 'fr', clinicalAdmin],
      [B, 'en', null],
    ] as const) {
      const created = await operatorCli.run([
        'site',
        'create',
        '--number',
        site,
        '--name',
        `Clinique ${site}`,
        '--admin-email',
        `creator-${site}@test.ca`,
        '--locale',
        locale,
        ...(clinical ? ['--clinical-admin-email', clinical] : []),
      ]);
      expect(created.code).toBe(0);
    }
    const people: [string, string, 'admin' | 'member'][] = [
      ['admin', A, 'admin'],
      ['other', B, 'admin'],
      ['member', A, 'member'],
      // A second admin of A who does nothing but the one view the alert test counts, so alerts of
      // earlier tests (which a loaded notifier may still be retrying) cannot be mistaken for it.
      ['viewer', A, 'admin'],
    ];
    for (const [who, site, role] of people) {
      await createUser({
        vaultUrl: vault.url,
        email: email(who),
        password: PASSWORD,
        siteNumber: site,
        role,
      });
      tokens[who] = await fresh(who);
    }
    serviceToken = await new ServiceTokenIssuer(
      'referral-intake',
      testServiceKeys('referral-intake'),
    ).tokenFor('vault');
  }, 180000);

  afterAll(async () => {
    await Promise.all([vault?.stop(), notifier?.stop()]);
    for (const schema of [vaultSchema, notifierSchema])
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
    await fetch(`${env.VAULT_ADDR}/v1/auth/approle/role/test-${prefix}`, {
      method: 'DELETE',
      headers: { 'x-vault-token': env.VAULT_TOKEN },
    });
  });

  const ACTIONS = [
    ['store', 'POST'],
    ['view', 'GET'],
    ['replace', 'PUT'],
    ['remove', 'DELETE'],
  ] as const;

  it('role matrix: only the admin of the site may store, view, replace and remove; every attempt is audited', async () => {
    const callers: [string, string | null, number][] = [
      ['other', tokens['other'] ?? '', 403],
      ['member', tokens['member'] ?? '', 403],
      ['service', serviceToken, 403],
      ['anonymous', null, 401],
    ];
    for (const [, token, expected] of callers) {
      for (const [, method] of ACTIONS) {
        const body = method === 'POST' || method === 'PUT' ? { sek: newSek() } : undefined;
        expect((await api(method, `/sites/${A}/sek`, token, body)).status).toBe(expected);
      }
    }
    const admin = await fresh('admin');
    const first = newSek();
    const second = newSek();
    secrets.push(first, second);
    expect(await api('POST', `/sites/${A}/sek`, admin, { sek: first })).toMatchObject({
      status: 201,
      body: { version: 1 },
    });
    expect((await api('POST', `/sites/${A}/sek`, admin, { sek: second })).status).toBe(409);
    const viewed = await api('GET', `/sites/${A}/sek`, admin);
    expect(viewed).toMatchObject({ status: 200, body: { sek: first, version: 1 } });
    expect(viewed.headers.get('cache-control')).toBe('no-store');
    expect(await api('PUT', `/sites/${A}/sek`, admin, { sek: second })).toMatchObject({
      status: 200,
      body: { version: 2 },
    });
    expect((await api('DELETE', `/sites/${A}/sek`, admin)).status).toBe(200);
    expect((await api('GET', `/sites/${A}/sek`, admin)).status).toBe(404);
    const history = await api('GET', `/sites/${A}/sek/history`, admin);
    expect(history.status).toBe(200);
    expect(history.body['events']).toMatchObject([
      { action: 'stored', kvVersion: 1 },
      { action: 'replaced', kvVersion: 2 },
      { action: 'removed', kvVersion: null },
    ]);
    expect(JSON.stringify(history.body)).not.toContain(first);
    expect((await api('GET', `/sites/${A}/sek/history`, tokens['other'] ?? '')).status).toBe(403);

    const entries = await waitFor(
      'every attempt in the audit trail',
      async () => {
        const found = (await auditEntries(A, admin)).filter((e) => String(e['action']).startsWith('sek.'));
        return found.length >= 22 ? found : null;
      },
      { timeoutMs: 90000 },
    );
    const count = (action: string, outcome: string, actorPrefix: string): number =>
      entries.filter(
        (e) =>
          e['action'] === action && e['outcome'] === outcome && String(e['actor']).startsWith(actorPrefix),
      ).length;
    for (const [action] of ACTIONS) {
      expect(count(`sek.${action}`, 'denied', 'user:')).toBe(2); // other site's admin, member
      expect(count(`sek.${action}`, 'denied', 'service:referral-intake')).toBe(1);
      expect(count(`sek.${action}`, 'denied', 'anonymous')).toBe(1);
      expect(count(`sek.${action}`, 'allowed', 'user:')).toBe(1);
    }
    expect(count('sek.store', 'failed', 'user:')).toBe(1); // the second store (already has a SEK)
    expect(count('sek.view', 'failed', 'user:')).toBe(1); // the view after removal
  });

  it('refuses a malformed SEK with a clear error that does not echo it', async () => {
    const admin = await fresh('admin');
    const bad = `${newSek().slice(0, 30)}!!`;
    const result = await api('POST', `/sites/${A}/sek`, admin, { sek: bad });
    expect(result.status).toBe(400);
    expect(String(result.body['detail'])).toContain('base64 text of exactly 32 bytes');
    expect(JSON.stringify(result.body)).not.toContain(bad);
    expect((await api('POST', `/sites/${A}/sek`, admin, {})).status).toBe(400);
  });

  it('an SEK view sends exactly one e-mail, in French, to the clinical administrator, without the key', async () => {
    const admin = await fresh('admin');
    const sek = newSek();
    secrets.push(sek);
    expect((await api('POST', `/sites/${A}/sek`, admin, { sek })).status).toBe(201);
    const isThisView = (text: string): boolean =>
      text.includes(`Qui : ${email('viewer')}`) && text.includes("clé consulté — l'opération a réussi");
    const views = async (): Promise<number> =>
      (await inbox.list(clinicalAdmin)).filter((m) => isThisView(m.text)).length;
    expect(await views()).toBe(0);
    const viewer = await fresh('viewer');
    expect((await api('GET', `/sites/${A}/sek`, viewer)).status).toBe(200);
    await waitFor('the alert e-mail', async () => (await views()) >= 1, { timeoutMs: 60000 });
    await sleep(2500);
    expect(await views()).toBe(1);
    const mails = await inbox.list(clinicalAdmin);
    expect(mails.every((m) => m.subject.includes('clé de chiffrement partagée'))).toBe(true);
    for (const mail of mails)
      for (const key of secrets) expect(`${mail.subject}${mail.text}${mail.html ?? ''}`).not.toContain(key);
    // Refused human attempts alert too (the other site's admin tried to view, in the role matrix).
    await waitFor(
      "the refused attempt's alert",
      async () =>
        (await inbox.list(clinicalAdmin)).some(
          (m) => m.text.includes(`Qui : ${email('other')}`) && m.text.includes('a été refusée'),
        ),
      { timeoutMs: 60000 },
    );
  });

  it('PHI: round trips across a key replacement; moved ciphertext fails; only intake and the gateway may call', async () => {
    const admin = await fresh('admin');
    const other = await fresh('other');
    const sekB = newSek();
    secrets.push(sekB);
    expect((await api('POST', `/sites/${B}/sek`, other, { sek: sekB })).status).toBe(201);
    const phi1 = `PHI-MARKER-${randomBytes(6).toString('hex')} Jane Example 1234-567-890`;
    const phi2 = `PHI-MARKER-${randomBytes(6).toString('hex')} John Example 9876-543-210`;
    secrets.push(phi1, phi2);
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    const encrypt = async (site: string, recordId: string, text: string): Promise<string> => {
      const result = await api('POST', `/sites/${site}/phi/encrypt`, serviceToken, {
        items: [{ recordId, plaintext: b64(text) }],
      });
      expect(result.status).toBe(200);
      return (result.body['items'] as { ciphertext: string }[])[0]?.ciphertext ?? '';
    };
    const c1 = await encrypt(A, 'referral/1', phi1);
    const replacement = newSek();
    secrets.push(replacement);
    const replaced = await api('PUT', `/sites/${A}/sek`, admin, { sek: replacement });
    expect(replaced.status).toBe(200);
    // Site A's SEK was removed earlier (a soft delete keeps those versions): numbering continues.
    const version = replaced.body['version'] as number;
    const c2 = await encrypt(A, 'referral/2', phi2);
    expect(Buffer.from(c1, 'base64').readUInt32BE(1)).toBe(version - 1);
    expect(Buffer.from(c2, 'base64').readUInt32BE(1)).toBe(version);

    const decrypted = await api('POST', `/sites/${A}/phi/decrypt`, serviceToken, {
      items: [
        { recordId: 'referral/1', ciphertext: c1 },
        { recordId: 'referral/2', ciphertext: c2 },
      ],
    });
    expect(decrypted.status).toBe(200);
    const texts = (decrypted.body['items'] as { plaintext: string }[]).map((i) =>
      Buffer.from(i.plaintext, 'base64').toString(),
    );
    expect(texts).toEqual([phi1, phi2]);

    const moved = await api('POST', `/sites/${A}/phi/decrypt`, serviceToken, {
      items: [{ recordId: 'referral/2', ciphertext: c1 }],
    });
    expect(moved).toMatchObject({ status: 422, body: { code: 'not-authentic', index: 0 } });
    const otherSite = await api('POST', `/sites/${B}/phi/decrypt`, serviceToken, {
      items: [{ recordId: 'referral/1', ciphertext: c1 }],
    });
    expect(otherSite.status).toBe(422);
    expect(JSON.stringify(otherSite.body)).not.toContain('PHI-MARKER');

    const gateway = await new ServiceTokenIssuer('emr-gateway', testServiceKeys('emr-gateway')).tokenFor(
      'vault',
    );
    expect(
      (
        await api('POST', `/sites/${A}/phi/encrypt`, gateway, {
          items: [{ recordId: 'x', plaintext: b64('x') }],
        })
      ).status,
    ).toBe(200);
    const scheduler = await new ServiceTokenIssuer('scheduler', testServiceKeys('scheduler')).tokenFor(
      'vault',
    );
    expect(
      (
        await api('POST', `/sites/${A}/phi/encrypt`, scheduler, {
          items: [{ recordId: 'x', plaintext: b64('x') }],
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await api('POST', `/sites/${A}/phi/encrypt`, admin, {
          items: [{ recordId: 'x', plaintext: b64('x') }],
        })
      ).status,
    ).toBe(403);
    const noSek = await api('POST', `/sites/${siteNumber()}/phi/encrypt`, serviceToken, {
      items: [{ recordId: 'x', plaintext: b64('x') }],
    });
    expect(noSek.status).toBe(404);
  });

  it('the typed PHI client (what referral-intake plugs in) round-trips and surfaces refusals', async () => {
    const cipher = new VaultPhiCipher({
      baseUrl: vault.url,
      tokens: new ServiceTokenIssuer('referral-intake', testServiceKeys('referral-intake')),
    });
    const phi = `PHI-MARKER-${randomBytes(6).toString('hex')} {"family":"Tremblay"}`;
    secrets.push(phi);
    const sealed = await cipher.encrypt(A, 'bundle/42', Buffer.from(phi));
    expect(sealed.includes(Buffer.from(phi))).toBe(false);
    expect((await cipher.decrypt(A, 'bundle/42', sealed)).toString()).toBe(phi);
    const batch = await cipher.decryptBatch(A, [
      { recordId: 'bundle/42', data: sealed },
      { recordId: 'bundle/42', data: sealed },
    ]);
    expect(batch.map((b) => b.toString())).toEqual([phi, phi]);
    const moved = await cipher.decrypt(A, 'bundle/43', sealed).catch((error: unknown) => error);
    expect(moved).toBeInstanceOf(PhiClientError);
    expect(moved).toMatchObject({ status: 422, code: 'not-authentic', retryable: false });
  });

  it('Vault stopped mid-run: 503 with Retry-After, readiness false, nothing half-written; recovers when it returns', async () => {
    const admin = await fresh('admin');
    const current = await api('GET', `/sites/${A}/sek`, admin);
    expect(current.status).toBe(200);
    const eventsBefore = await db.query(
      `SELECT count(*)::int AS n FROM "${vaultSchema}".sek_events WHERE site_number = $1`,
      [A],
    );
    const attempted = newSek();
    secrets.push(attempted);
    try {
      await stackCtl('stop', 'vault');
      await waitFor('readiness to go false', async () => (await vault.readiness()).status === 503, {
        timeoutMs: 20000,
      });
      expect((await vault.readiness()).body.checks['vault']).toBe('down');
      const replaced = await api('PUT', `/sites/${A}/sek`, admin, { sek: attempted });
      expect(replaced.status).toBe(503);
      expect(replaced.headers.get('retry-after')).toBe('10');
      expect(String(replaced.body['detail'])).toContain('key vault is unavailable');
      expect((await api('GET', `/sites/${A}/sek`, admin)).status).toBe(503);
      expect((await api('DELETE', `/sites/${A}/sek`, admin)).status).toBe(503);
    } finally {
      await stackCtl('start', 'vault');
    }
    await vault.waitReady(60000);
    const eventsAfter = await db.query(
      `SELECT count(*)::int AS n FROM "${vaultSchema}".sek_events WHERE site_number = $1`,
      [A],
    );
    expect(eventsAfter.rows[0]).toEqual(eventsBefore.rows[0]);
    const after = await api('GET', `/sites/${A}/sek`, await fresh('admin'));
    expect(after).toMatchObject({
      status: 200,
      body: { sek: current.body['sek'], version: current.body['version'] },
    });
    const failures = await waitFor('the failed attempts in the audit trail', async () => {
      const found = (await auditEntries(A, admin, '&action=sek.replace')).filter((e) =>
        String(e['target']).includes('vault-'),
      );
      return found.length > 0 ? found : null;
    });
    expect(failures[0]).toMatchObject({ outcome: 'failed' });
  }, 240000);

  it('audit: the table refuses UPDATE; a row tampered with by a superuser is found and located by verify', async () => {
    const other = await fresh('other');
    await waitFor('site B audit entries', async () => (await auditEntries(B, other)).length >= 3);
    const intact = await cliAs('other', ['audit', 'verify', '--site', B]);
    expect(intact.code).toBe(0);
    expect(JSON.parse(intact.stdout)).toMatchObject({ ok: true });

    await expect(
      db.query(`UPDATE "${vaultSchema}".audit_entries SET actor = 'x' WHERE site_number = $1 AND seq = 2`, [
        B,
      ]),
    ).rejects.toThrow('append-only');
    await expect(
      db.query(`DELETE FROM "${vaultSchema}".audit_entries WHERE site_number = $1`, [B]),
    ).rejects.toThrow('append-only');

    const adminUrl = new URL(env.DATABASE_ADMIN_URL);
    adminUrl.pathname = new URL(env.DATABASE_URL).pathname;
    const superuser = new Client({ connectionString: adminUrl.toString() });
    await superuser.connect();
    try {
      await superuser.query('BEGIN');
      await superuser.query('SET LOCAL session_replication_role = replica');
      await superuser.query(
        `UPDATE "${vaultSchema}".audit_entries SET actor = 'user:nobody' WHERE site_number = $1 AND seq = 2`,
        [B],
      );
      await superuser.query('COMMIT');
    } finally {
      await superuser.end();
    }
    const broken = await cliAs('other', ['audit', 'verify', '--site', B]);
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.stdout)).toMatchObject({
      error: {
        code: 'audit-chain-broken',
        details: ['brokenAtSeq=2', 'problem=hash-mismatch', expect.any(String)],
      },
    });
    expect(broken.stderr).toContain('broken at entry 2');

    const csv = await fetch(`${vault.url}/sites/${B}/audit?format=csv&action=sek.store`, {
      headers: { authorization: `Bearer ${other}` },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('seq,occurredAt,actor,action,target,outcome,sourceAddress,auditId,hash');
    expect(lines.slice(1).every((l) => l.includes('"sek.store"'))).toBe(true);
    expect(lines.length).toBeGreaterThan(1);
  });

  it('the CLI stores and views a SEK with secrets from stdin, never argv', async () => {
    const site = B;
    const viewed = await cliAs('other', ['sek', 'view', '--site', site]);
    expect(viewed.code).toBe(0);
    expect(JSON.parse(viewed.stdout)).toMatchObject({ siteNumber: site, version: 1 });
    const replacement = newSek();
    secrets.push(replacement);
    const replaced = await cliAs('other', ['sek', 'replace', '--site', site], `${replacement}\n`);
    expect(replaced.code).toBe(0);
    expect(JSON.parse(replaced.stdout)).toMatchObject({ version: 2 });
    const denied = await cliAs('other', ['sek', 'view', '--site', A]);
    expect(denied.code).toBe(1);
  });

  it('no captured service log holds a SEK, test PHI, the password or the Vault token', async () => {
    await sleep(500);
    const dir = testLogDir();
    const files = readdirSync(dir).filter((f) => f.endsWith('.log'));
    expect(files.length).toBeGreaterThan(0);
    // Also every SEK the other suites stored through provisionSiteSek/storeSiteSek.
    secrets.push(...storedTestSeks());
    for (const file of files) {
      const text = readFileSync(join(dir, file), 'utf8');
      for (const secret of secrets)
        expect({ file, leaked: text.includes(secret) }).toEqual({ file, leaked: false });
      // Also the URL-safe form of every SEK.
      for (const secret of secrets.filter((s) => s.length === 44)) {
        expect(text.includes(Buffer.from(secret, 'base64').toString('base64url'))).toBe(false);
      }
    }
  });
});
