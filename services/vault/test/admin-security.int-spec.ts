// Admin sign-in at ASVS L2 through the real vault service (Postgres, Vault KV, Kafka): the TOTP
// second factor (set-up, sign-in, replay, recovery codes), revocable sessions (list, sign out,
// sign out everywhere, refresh), password change, weak and breached passwords, signing-key rotation.
import {
  createUser,
  freePort,
  operatorCall,
  registerSite,
  ServiceProcess,
  serviceEnvFor,
  stackEnv,
  uniqueName,
} from '@cloud-connect/testing';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { Client } from 'pg';

const env = stackEnv();
const schema = uniqueName('adminsec');
const site = String(300000000 + Math.floor(Math.random() * 99999999));
const PASSWORD = 'quiet harbour lantern 8841';
const email = (who: string): string => `${who}-${site}@clinic.ca`;

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

describe('admin sign-in: second factor, sessions, passwords, signing keys (real vault service)', () => {
  let vault: ServiceProcess;
  let db: Client;

  async function call(method: string, path: string, token: string | null, body?: unknown): Promise<Answer> {
    const response = await fetch(`${vault.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30000),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      headers: response.headers,
    };
  }

  const login = (who: string, extra: Record<string, string> = {}, password = PASSWORD) =>
    call('POST', '/auth/login', null, { email: email(who), password, ...extra });
  const tokenOf = (answer: Answer): string => answer.body['access_token'] as string;
  const readSite = (token: string) => call('GET', `/admin/sites/${site}`, token);

  /** A person without an authenticator app yet (createUser sets one up unless told not to). */
  async function person(who: string): Promise<void> {
    await createUser({
      vaultUrl: vault.url,
      email: email(who),
      password: PASSWORD,
      siteNumber: site,
      totp: false,
    });
  }

  /** Sets up an authenticator app over the API; answers the app (to type codes) and the recovery codes. */
  async function enrol(who: string): Promise<{ app: TOTP; recovery: string[] }> {
    const token = tokenOf(await login(who));
    const begun = await call('POST', '/auth/mfa/totp', token, {});
    expect(begun.status).toBe(201);
    expect(begun.body['otpauthUri']).toMatch(/^otpauth:\/\/totp\/Cloud%20Connect:.+\?.*secret=[A-Z2-7]+/);
    const app = new TOTP({ secret: Secret.fromBase32(begun.body['secret'] as string) });
    const confirmed = await call('POST', '/auth/mfa/totp/confirm', token, { code: app.generate() });
    expect(confirmed.status).toBe(200);
    return { app, recovery: confirmed.body['recoveryCodes'] as string[] };
  }

  /** The code of the step after `steps` steps from now (each is accepted once). */
  const codeAt = (app: TOTP, steps: number): string =>
    app.generate({ timestamp: Date.now() + steps * 30000 });

  beforeAll(async () => {
    vault = new ServiceProcess(
      'vault',
      await freePort(),
      serviceEnvFor('vault', env, { DATABASE_SCHEMA: schema }),
    ).start();
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    await vault.waitReady(90000);
    await registerSite(vault.url, { siteNumber: site, locale: 'fr' });
  });

  afterAll(async () => {
    await vault?.stop();
    await db?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db?.end();
  });

  it('TOTP: set up with a first code, then required at sign-in; a code or recovery code works once', async () => {
    await person('totp');
    const before = await login('totp');
    expect(decodeJwt(tokenOf(before))['amr']).toEqual(['pwd']);
    // Without an app, viewing the SEK is refused with mfa-required (whatever the SEK's state).
    const sek = await call('GET', `/sites/${site}/sek`, tokenOf(before));
    expect(sek.status).toBe(403);
    expect(sek.body).toEqual(expect.objectContaining({ code: 'mfa-required' }));

    const begun = await call('POST', '/auth/mfa/totp', tokenOf(before), {});
    const app = new TOTP({ secret: Secret.fromBase32(begun.body['secret'] as string) });
    const wrong = await call('POST', '/auth/mfa/totp/confirm', tokenOf(before), {
      code: app.generate() === '000000' ? '111111' : '000000',
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual(expect.objectContaining({ code: 'invalid-code' }));
    expect((await call('GET', '/auth/mfa', tokenOf(before))).body).toEqual({
      totp: 'pending',
      recoveryCodesLeft: 0,
    });
    const confirmed = await call('POST', '/auth/mfa/totp/confirm', tokenOf(before), { code: app.generate() });
    expect(confirmed.status).toBe(200);
    const recovery = confirmed.body['recoveryCodes'] as string[];
    expect(recovery).toHaveLength(10);
    expect(new Set(recovery).size).toBe(10);
    expect((await call('GET', '/auth/mfa', tokenOf(before))).body).toEqual({
      totp: 'active',
      recoveryCodesLeft: 10,
    });
    // A second set-up is refused while one is active.
    expect((await call('POST', '/auth/mfa/totp', tokenOf(before), {})).status).toBe(409);

    // The secret is in Vault KV, not in the database; recovery codes are stored hashed only.
    const dump = await db.query(
      `SELECT row_to_json(t)::text AS r FROM "${schema}".admin_totp t UNION ALL
       SELECT row_to_json(c)::text FROM "${schema}".admin_recovery_codes c`,
    );
    const stored = dump.rows.map((r: { r: string }) => r.r).join('\n');
    expect(stored).not.toContain(begun.body['secret'] as string);
    for (const code of recovery) expect(stored).not.toContain(code);

    const noCode = await login('totp');
    expect(noCode.status).toBe(401);
    expect(noCode.body).toEqual(expect.objectContaining({ code: 'code-required' }));
    const code = codeAt(app, 1);
    const withCode = await login('totp', { code });
    expect(withCode.status).toBe(200);
    expect(decodeJwt(tokenOf(withCode))['amr']).toEqual(['pwd', 'otp']);
    const replay = await login('totp', { code });
    expect(replay.status).toBe(401);
    expect(replay.body).toEqual(expect.objectContaining({ code: 'invalid-code' }));
    // An older step than the last accepted one is a replay too.
    expect((await login('totp', { code: codeAt(app, 0) })).status).toBe(401);

    const rescue = recovery[3]!;
    expect((await login('totp', { code: rescue.toLowerCase() })).status).toBe(200);
    expect((await login('totp', { code: rescue })).status).toBe(401);
    expect((await call('GET', '/auth/mfa', tokenOf(withCode))).body).toEqual({
      totp: 'active',
      recoveryCodesLeft: 9,
    });
  });

  it('sessions: listed, one ended, all ended; an ended session is refused at once and cannot refresh', async () => {
    await person('sessions');
    const first = await login('sessions');
    const second = await login('sessions');
    const [a, b] = [tokenOf(first), tokenOf(second)];
    expect(decodeJwt(a)['sid']).toBe(first.body['session_id']);

    const listed = await call('GET', '/auth/sessions', a);
    const sessions = listed.body['sessions'] as { id: string; current: boolean; sourceAddress: string }[];
    expect(sessions.map((s) => [s.id, s.current]).sort()).toEqual(
      [
        [first.body['session_id'], true],
        [second.body['session_id'], false],
      ].sort(),
    );

    // The refresh token gives a new access token of the same session.
    const refreshed = await call('POST', '/auth/refresh', null, {
      refresh_token: second.body['refresh_token'],
    });
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(tokenOf(refreshed))['sid']).toBe(second.body['session_id']);

    expect((await call('DELETE', `/auth/sessions/${second.body['session_id'] as string}`, a)).status).toBe(
      204,
    );
    const ended = await readSite(b);
    expect(ended.status).toBe(401);
    expect(ended.body).toEqual(expect.objectContaining({ code: 'session-revoked' }));
    expect((await readSite(tokenOf(refreshed))).status).toBe(401);
    expect(
      (await call('POST', '/auth/refresh', null, { refresh_token: second.body['refresh_token'] })).status,
    ).toBe(401);
    expect((await call('POST', '/auth/refresh', b, {})).status).toBe(401);
    expect((await readSite(a)).status).toBe(200);
    // Someone else's session id is not found (each person sees only their own).
    await person('stranger');
    const stranger = tokenOf(await login('stranger'));
    expect(
      (await call('DELETE', `/auth/sessions/${first.body['session_id'] as string}`, stranger)).status,
    ).toBe(404);
    expect((await readSite(a)).status).toBe(200);

    const everywhere = await call('POST', '/auth/logout-everywhere', a, {});
    expect(everywhere.body).toEqual({ revoked: 1 });
    expect((await readSite(a)).status).toBe(401);
    expect(
      (await call('POST', '/auth/refresh', null, { refresh_token: first.body['refresh_token'] })).status,
    ).toBe(401);

    const third = tokenOf(await login('sessions'));
    expect((await call('POST', '/auth/logout', third, {})).status).toBe(204);
    expect((await readSite(third)).status).toBe(401);
    expect((await readSite(stranger)).status).toBe(200);
    const audit = await db.query(
      `SELECT envelope->'payload'->>'action' AS action FROM "${schema}".outbox WHERE envelope->'payload'->>'action' LIKE 'user.session.%'`,
    );
    expect(audit.rows.map((r: { action: string }) => r.action)).toEqual(
      expect.arrayContaining(['user.session.revoke', 'user.session.revoke-all']),
    );
  });

  it('password change: a weak or breached one refused (EN and FR), then the others signed out', async () => {
    await person('change');
    const kept = tokenOf(await login('change'));
    const other = tokenOf(await login('change'));
    for (const weak of ['Password123456', 'qwertyuiop12345', '111111111111']) {
      const refused = await call('POST', '/auth/password/change', kept, {
        currentPassword: PASSWORD,
        newPassword: weak,
      });
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual(expect.objectContaining({ code: 'weak-password' }));
      expect(refused.body['detail']).toContain('breached passwords');
      expect(refused.body['detail']).toContain('mots de passe divulgués');
    }
    expect((await readSite(other)).status).toBe(200);
    const wrongCurrent = await call('POST', '/auth/password/change', kept, {
      currentPassword: 'not my password at all',
      newPassword: 'violet tundra compass 5521',
    });
    expect(wrongCurrent.status).toBe(401);
    const changed = await call('POST', '/auth/password/change', kept, {
      currentPassword: PASSWORD,
      newPassword: 'violet tundra compass 5521',
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ otherSessionsSignedOut: 1 });
    expect((await readSite(other)).status).toBe(401);
    expect((await readSite(kept)).status).toBe(200);
    expect((await login('change')).status).toBe(401);
    expect((await login('change', {}, 'violet tundra compass 5521')).status).toBe(200);
  });

  it('refuses a common password when an operator creates a person', async () => {
    const weak = await operatorCall(vault.url, 'POST', `/operator/sites/${site}/users`, {
      email: email('weak'),
      password: 'iloveyou12345',
    });
    expect(weak.status).toBe(400);
    expect(weak.json).toEqual(expect.objectContaining({ code: 'weak-password' }));
  });

  it('step-up: set-up needs a recent sign-in; re-authentication needs the code once enrolled', async () => {
    await person('stepup');
    const { app } = await enrol('stepup');
    const token = tokenOf(await login('stepup', { code: codeAt(app, 1) }));
    const noCode = await call('POST', '/auth/reauthenticate', token, { password: PASSWORD });
    expect(noCode.status).toBe(401);
    expect(noCode.body).toEqual(expect.objectContaining({ code: 'code-required' }));
    const fresh = await call('POST', '/auth/reauthenticate', token, {
      password: PASSWORD,
      code: codeAt(app, -1),
    });
    // Step -1 is older than the step accepted at sign-in: a replayed code.
    expect(fresh.status).toBe(401);
  });

  it('rotates the signing key: the new kid signs, the old key verifies until its overlap ends', async () => {
    await person('keys');
    const before = tokenOf(await login('keys'));
    const oldKid = decodeProtectedHeader(before).kid;
    const rotated = await operatorCall(vault.url, 'POST', '/operator/signing-keys/rotate', {});
    expect(rotated.status).toBe(200);
    expect(rotated.json['kid']).not.toBe(oldKid);
    expect(rotated.json['retired']).toEqual(
      expect.arrayContaining([expect.objectContaining({ kid: oldKid, acceptedUntil: expect.any(String) })]),
    );
    const jwks = (await call('GET', '/.well-known/jwks.json', null)).body['keys'] as { kid: string }[];
    expect(jwks.map((k) => k.kid)).toEqual(expect.arrayContaining([rotated.json['kid'], oldKid]));
    expect((await readSite(before)).status).toBe(200);
    const after = tokenOf(await login('keys'));
    expect(decodeProtectedHeader(after).kid).toBe(rotated.json['kid']);
    expect((await readSite(after)).status).toBe(200);
  });
});
