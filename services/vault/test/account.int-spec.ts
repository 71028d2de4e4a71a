// The site account over the admin API, with the vault and notifier services as real processes on
// the real stack (Postgres, Kafka, OpenBao, SMTP sink): settings and the clinical administrator
// e-mail (both addresses told), invitations accepted through the e-mailed one-time link, removing
// and resetting administrators, and forgotten passwords — with their failure paths.
import {
  appRoleFor,
  createUser,
  freePort,
  MailInbox,
  registerSite,
  ServiceProcess,
  serviceEnvFor,
  signIn,
  stackEnv,
  uniqueName,
  waitFor,
} from '@cloud-connect/testing';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

const env = stackEnv();
const prefix = uniqueName('t');
const vaultSchema = `${prefix}_vault`;
const notifierSchema = `${prefix}_notifier`;
const inbox = new MailInbox(env.MAIL_API_URL);
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const siteNumber = (): string => String(500000000 + Math.floor(Math.random() * 99999999));
const A = siteNumber();
const B = siteNumber();
const email = (who: string, site = A): string => `${who}-${site}@test.ca`;
const CONSOLE_URL = 'https://console.test.example';

/** The one-time link in the newest e-mail to `to` whose subject matches. */
async function linkIn(to: string, subject: RegExp): Promise<{ token: string; text: string }> {
  const mail = await waitFor(
    `an e-mail to ${to} matching ${subject}`,
    async () => (await inbox.list(to)).find((m) => subject.test(m.subject)),
    { timeoutMs: 60000, intervalMs: 500 },
  );
  const match = /\/#\/set-password\?token=([A-Za-z0-9_-]{43})/.exec(mail.text);
  if (!match?.[1]) throw new Error(`no link in the e-mail "${mail.subject}"`);
  expect(mail.text.startsWith(`Hello,`) || mail.text.startsWith('Bonjour,')).toBe(true);
  expect(mail.text).toContain(`${CONSOLE_URL}/#/set-password?token=`);
  return { token: match[1], text: mail.text };
}

describe('site account and password links (real services and stack)', () => {
  let vault: ServiceProcess;
  let notifier: ServiceProcess;
  let db: Client;
  let roleName = '';
  const tokens: Record<string, string> = {};

  async function api(
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
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
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  const siteRow = async (site: string): Promise<Record<string, unknown>> =>
    (
      await db.query(
        `SELECT clinical_admin_email, locale, timezone FROM "${vaultSchema}".sites WHERE site_number = $1`,
        [site],
      )
    ).rows[0] as Record<string, unknown>;
  const auditActions = async (site: string): Promise<string[]> =>
    (
      await db.query<{ action: string }>(
        `SELECT envelope->'payload'->>'action' AS action FROM "${vaultSchema}".outbox
          WHERE envelope->>'type' = 'audit.recorded' AND envelope->>'siteId' = $1 ORDER BY id`,
        [site],
      )
    ).rows.map((r) => r.action);
  const admins = async (
    site: string,
    token: string,
  ): Promise<{ userId: string; email: string; status: string }[]> => {
    const answer = await api('GET', `/admin/sites/${site}/admins`, token);
    expect(answer.status).toBe(200);
    return answer.body['admins'] as { userId: string; email: string; status: string }[];
  };

  beforeAll(async () => {
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    roleName = `test-${prefix}`;
    const role = await appRoleFor(env, 'vault-service', roleName);
    vault = new ServiceProcess(
      'vault',
      await freePort(),
      serviceEnvFor('vault', env, { DATABASE_SCHEMA: vaultSchema, CONSOLE_URL, ...role.env }),
    ).start();
    notifier = new ServiceProcess(
      'notifier',
      await freePort(),
      serviceEnvFor('notifier', env, { DATABASE_SCHEMA: notifierSchema }),
    ).start();
    await Promise.all([vault.waitReady(90000), notifier.waitReady(90000)]);
    for (const [site, locale] of [
      [A, 'en'],
      [B, 'fr'],
    ] as const) {
      expect(
        await registerSite(vault.url, {
          siteNumber: site,
          name: `Clinic ${site}`,
          adminEmail: email('creator', site),
          locale,
        }),
      ).toBe('created');
    }
    for (const [who, site] of [
      ['admin', A],
      ['other', B],
    ] as const) {
      await createUser({
        vaultUrl: vault.url,
        email: email(who, site),
        password: PASSWORD,
        siteNumber: site,
      });
      tokens[who] = await signIn(vault.url, email(who, site), PASSWORD);
    }
  }, 180000);

  afterAll(async () => {
    await Promise.all([vault?.stop(), notifier?.stop()]);
    for (const schema of [vaultSchema, notifierSchema])
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
    await fetch(`${env.VAULT_ADDR}/v1/auth/approle/role/${roleName}`, {
      method: 'DELETE',
      headers: { 'x-vault-token': env.VAULT_TOKEN },
    });
  });

  it('changes the site settings; a bad e-mail or another site is refused and changes nothing', async () => {
    const before = await siteRow(A);
    const bad = await api('PATCH', `/admin/sites/${A}`, tokens['admin']!, {
      clinicalAdminEmail: 'not-an-address',
      timezone: 'Mars/Olympus',
    });
    expect(bad.status).toBe(400);
    expect(bad.body['errors']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'clinicalAdminEmail' }),
        expect.objectContaining({ field: 'timezone' }),
      ]),
    );
    expect((await api('PATCH', `/admin/sites/${A}`, tokens['admin']!, {})).status).toBe(400);
    expect((await api('PATCH', `/admin/sites/${A}`, tokens['admin']!, { adminEmail: 'x@y.ca' })).status).toBe(
      400,
    );
    // The admin of B cannot touch A; nobody without a token can.
    expect((await api('PATCH', `/admin/sites/${A}`, tokens['other']!, { locale: 'fr' })).status).toBe(403);
    expect((await api('PATCH', `/admin/sites/${A}`, null, { locale: 'fr' })).status).toBe(401);
    expect(await siteRow(A)).toEqual(before);

    const changed = await api('PATCH', `/admin/sites/${A}`, tokens['admin']!, {
      clinicalAdminEmail: email('clinical'),
      timezone: 'America/Vancouver',
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      clinicalAdminEmail: email('clinical'),
      timezone: 'America/Vancouver',
      locale: 'en',
    });
    expect(await siteRow(A)).toEqual({
      clinical_admin_email: email('clinical'),
      locale: 'en',
      timezone: 'America/Vancouver',
    });
    expect(await auditActions(A)).toEqual(
      expect.arrayContaining(['site.update', 'site.clinical-admin-email.change']),
    );
    // Both the old address (the site admin's, as none was set) and the new one are told.
    for (const to of [email('creator'), email('clinical')])
      await waitFor(
        `the change notice to ${to}`,
        async () =>
          (await inbox.list(to)).find((m) => /Clinical administrator e-mail changed/.test(m.subject)),
        { timeoutMs: 60000, intervalMs: 500 },
      );
  }, 120000);

  it('invites an administrator who sets a password with the one-time link and signs in', async () => {
    expect(
      (await api('POST', `/admin/sites/${A}/admins`, tokens['admin']!, { email: 'nope' })).body,
    ).toMatchObject({
      code: 'invalid-request',
      errors: [expect.objectContaining({ field: 'email' })],
    });
    expect(
      (await api('POST', `/admin/sites/${A}/admins`, tokens['other']!, { email: email('x') })).status,
    ).toBe(403);
    expect(
      (await api('POST', `/admin/sites/${A}/admins`, tokens['admin']!, { email: email('admin') })).status,
    ).toBe(409);

    const invited = await api('POST', `/admin/sites/${A}/admins`, tokens['admin']!, {
      email: email('invitee'),
    });
    expect(invited.status).toBe(201);
    expect(invited.body).toMatchObject({ email: email('invitee'), outcome: 'invited' });
    expect((await admins(A, tokens['admin']!)).find((a) => a.email === email('invitee'))?.status).toBe(
      'invited',
    );
    // Not yet able to sign in: the account has no password of its own.
    await expect(signIn(vault.url, email('invitee'), PASSWORD)).rejects.toThrow(/401/);

    const { token } = await linkIn(email('invitee'), /invited to administer site/);
    // The link is in no Kafka payload and not stored: only its hash.
    const outbox = await db.query<{ envelope: unknown }>(`SELECT envelope FROM "${vaultSchema}".outbox`);
    expect(JSON.stringify(outbox.rows)).not.toContain(token);
    const stored = await db.query(`SELECT token_hash FROM "${vaultSchema}".account_tokens`);
    expect(JSON.stringify(stored.rows)).not.toContain(token);

    const short = await api('POST', '/auth/password/reset', null, { token, password: 'short' });
    expect(short).toMatchObject({
      status: 400,
      body: { code: 'invalid-request', errors: [expect.objectContaining({ field: 'password' })] },
    });
    const NEW = `new-${randomBytes(8).toString('hex')}`;
    expect(await api('POST', '/auth/password/reset', null, { token, password: NEW })).toEqual({
      status: 200,
      body: { email: email('invitee') },
    });
    expect(await signIn(vault.url, email('invitee'), NEW)).toMatch(/^ey/);
    // Single use.
    expect(
      (await api('POST', '/auth/password/reset', null, { token, password: `${NEW}-again` })).body,
    ).toMatchObject({
      code: 'invalid-link',
    });
    expect((await admins(A, tokens['admin']!)).find((a) => a.email === email('invitee'))?.status).toBe(
      'active',
    );
    expect(await auditActions(A)).toEqual(expect.arrayContaining(['user.invite', 'user.invite.accept']));
  }, 120000);

  it('removes administrators of its own site only, never the last one', async () => {
    const list = await admins(A, tokens['admin']!);
    const invitee = list.find((a) => a.email === email('invitee'))!;
    const me = list.find((a) => a.email === email('admin'))!;
    const other = (await admins(B, tokens['other']!)).find((a) => a.email === email('other', B))!;
    // Another site's admin: 403; a person not at this site: 404; not an id: 404.
    expect((await api('DELETE', `/admin/sites/${A}/admins/${invitee.userId}`, tokens['other']!)).status).toBe(
      403,
    );
    expect((await api('DELETE', `/admin/sites/${A}/admins/${other.userId}`, tokens['admin']!)).status).toBe(
      404,
    );
    expect((await api('DELETE', `/admin/sites/${A}/admins/not-a-uuid`, tokens['admin']!)).status).toBe(404);
    // B has one admin: removing them is refused.
    const last = await api('DELETE', `/admin/sites/${B}/admins/${other.userId}`, tokens['other']!);
    expect(last).toMatchObject({ status: 409, body: { code: 'last-admin' } });
    expect((await admins(B, tokens['other']!)).map((a) => a.email)).toContain(email('other', B));

    expect((await api('DELETE', `/admin/sites/${A}/admins/${invitee.userId}`, tokens['admin']!)).status).toBe(
      204,
    );
    const after = (await admins(A, tokens['admin']!)).map((a) => a.userId);
    expect(after).toContain(me.userId);
    expect(after).not.toContain(invitee.userId);
    expect(await auditActions(A)).toContain('user.remove');
  }, 60000);

  it('sends a reset link to an administrator of its own site only', async () => {
    const other = (await admins(B, tokens['other']!)).find((a) => a.email === email('other', B))!;
    expect(
      (await api('POST', `/admin/sites/${A}/admins/${other.userId}/reset`, tokens['admin']!)).status,
    ).toBe(404);
    const me = (await admins(A, tokens['admin']!)).find((a) => a.email === email('admin'))!;
    expect((await api('POST', `/admin/sites/${A}/admins/${me.userId}/reset`, tokens['admin']!)).status).toBe(
      202,
    );
    const { token } = await linkIn(email('admin'), /Choose a new Cloud Connect password/);
    expect(await auditActions(A)).toContain('user.password.reset-link');
    // Past its 30 minutes the link is refused and the password stays as it was.
    await db.query(
      `UPDATE "${vaultSchema}".account_tokens SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`,
    );
    const late = await api('POST', '/auth/password/reset', null, { token, password: `late-${PASSWORD}` });
    expect(late).toMatchObject({ status: 400, body: { code: 'expired-link' } });
    expect(await signIn(vault.url, email('admin'), PASSWORD)).toMatch(/^ey/);
  }, 90000);

  it('forgotten password: the same answer for any address, a working link, throttled', async () => {
    const unknown = await api('POST', '/auth/password/forgot', null, { email: `nobody-${A}@test.ca` });
    const known = await api('POST', '/auth/password/forgot', null, { email: email('other', B) });
    expect(unknown.status).toBe(202);
    expect(known).toEqual(unknown);
    const { token, text } = await linkIn(email('other', B), /nouveau mot de passe/);
    expect(text).toContain('30 minutes');
    const NEW = `reset-${randomBytes(8).toString('hex')}`;
    expect((await api('POST', '/auth/password/reset', null, { token, password: NEW })).status).toBe(200);
    expect(await signIn(vault.url, email('other', B), NEW)).toMatch(/^ey/);
    await expect(signIn(vault.url, email('other', B), PASSWORD)).rejects.toThrow(/401/);
    expect(
      (await api('POST', '/auth/password/reset', null, { token: 'x'.repeat(43), password: NEW })).body,
    ).toMatchObject({
      code: 'invalid-link',
    });
    // Three requests per address in 15 minutes, then 429 whether or not it has an account.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1)
      statuses.push(
        (await api('POST', '/auth/password/forgot', null, { email: `nobody-${A}@test.ca` })).status,
      );
    expect(statuses).toEqual([202, 202, 429, 429]);
    expect(await inbox.list(`nobody-${A}@test.ca`)).toEqual([]);
  }, 90000);

  it('refreshes a valid session token with the same sign-in time and the roles read again', async () => {
    const claims = (token: string): Record<string, unknown> =>
      JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
        string,
        unknown
      >;
    expect((await api('POST', '/auth/refresh', null, {})).status).toBe(401);
    expect((await api('POST', '/auth/refresh', 'not-a-token', {})).status).toBe(401);
    const before = claims(tokens['admin']!);
    const answer = await api('POST', '/auth/refresh', tokens['admin']!, {});
    expect(answer.status).toBe(200);
    const after = claims(answer.body['access_token'] as string);
    expect(after['auth_time']).toBe(before['auth_time']);
    expect(after['sites']).toEqual({ [A]: 'admin' });
    expect(after['jti']).not.toBe(before['jti']);
  }, 30000);
});
