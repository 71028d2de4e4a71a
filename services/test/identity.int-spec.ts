// Sign-in for site admins through the real vault service: users created with the CLI (operator API), Argon2id
// passwords, ES256 access tokens verified against the published JWKS, re-authentication, throttling.
import {
  createUser,
  freePort,
  ServiceProcess,
  serviceEnvFor,
  signIn,
  stackEnv,
  TestCli,
  totpCodeFor,
  uniqueName,
} from '@cloud-connect/testing';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { Client } from 'pg';

const env = stackEnv();
const schema = uniqueName('identity');
const site = String(100000000 + Math.floor(Math.random() * 899999999));
const otherSite = String(Number(site) + 1);
const password = 'correct horse battery staple';

describe('site admin identity (real vault service, Postgres and Vault)', () => {
  let vault: ServiceProcess;
  let cli: TestCli;
  const login = (email: string, pw: string) =>
    fetch(`${vault.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: pw }),
    });

  beforeAll(async () => {
    vault = new ServiceProcess(
      'vault',
      await freePort(),
      serviceEnvFor('vault', env, { DATABASE_SCHEMA: schema }),
    ).start();
    await vault.waitReady();
    cli = new TestCli(vault.url);
    for (const number of [site, otherSite]) {
      expect(
        (
          await cli.run([
            'site',
            'create',
            '--number',
            number,
            '--name',
            `Site ${number}`,
            '--admin-email',
            'owner@clinic.ca',
          ])
        ).code,
      ).toBe(0);
    }
    await createUser({
      vaultUrl: vault.url,
      email: 'admin@clinic.ca',
      password,
      siteNumber: site,
    });
    await createUser({
      vaultUrl: vault.url,
      email: 'member@clinic.ca',
      password,
      siteNumber: site,
      role: 'member',
    });
  });

  afterAll(async () => {
    await vault.stop();
    const db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
  });

  it('signs an admin in with a short-lived ES256 token that carries their sites', async () => {
    const token = await signIn(vault.url, 'admin@clinic.ca', password);
    const claims = decodeJwt(token);
    expect(claims).toEqual(
      expect.objectContaining({
        iss: 'cloud-connect/vault',
        aud: 'cloud-connect/admin',
        email: 'admin@clinic.ca',
        sites: { [site]: 'admin' },
      }),
    );
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(300);
    expect(claims).toEqual(expect.objectContaining({ sid: expect.any(String), amr: ['pwd', 'otp'] }));
    const jwks = (await (await fetch(`${vault.url}/.well-known/jwks.json`)).json()) as {
      keys: Record<string, unknown>[];
    };
    expect(jwks.keys.map((k) => k['kid'])).toContain(decodeProtectedHeader(token).kid);
    expect(jwks.keys[0]).toEqual(expect.objectContaining({ kty: 'EC', crv: 'P-256', alg: 'ES256' }));
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('lets the admin read their site, and refuses another site, a member and no token', async () => {
    const adminToken = await signIn(vault.url, 'admin@clinic.ca', password);
    const memberToken = await signIn(vault.url, 'member@clinic.ca', password);
    const read = (number: string, token?: string) =>
      fetch(
        `${vault.url}/admin/sites/${number}`,
        token ? { headers: { authorization: `Bearer ${token}` } } : {},
      );
    const own = await read(site, adminToken);
    expect(own.status).toBe(200);
    expect(await own.json()).toEqual(
      expect.objectContaining({ siteNumber: site, adminEmail: 'owner@clinic.ca' }),
    );
    expect((await read(otherSite, adminToken)).status).toBe(403);
    expect((await read(site, memberToken)).status).toBe(403);
    expect((await read(site)).status).toBe(401);
  });

  it('gives the same answer for a wrong password and an unknown e-mail', async () => {
    const wrong = await login('member@clinic.ca', 'not the password at all');
    const unknown = await login('nobody@clinic.ca', 'not the password at all');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(await wrong.json()).toEqual(await unknown.json());
  });

  it('throttles repeated failures for an e-mail with 429 and Retry-After', async () => {
    await createUser({
      vaultUrl: vault.url,
      email: 'target@clinic.ca',
      password,
      siteNumber: site,
    });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1)
      statuses.push((await login('target@clinic.ca', `guess number ${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const locked = await login('target@clinic.ca', password);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('re-authenticates with the password for a fresh auth_time, and refuses a wrong one', async () => {
    const first = await signIn(vault.url, 'admin@clinic.ca', password);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const reauth = async (pw: string) =>
      fetch(`${vault.url}/auth/reauthenticate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${first}` },
        body: JSON.stringify({ password: pw, code: await totpCodeFor('admin@clinic.ca') }),
      });
    const ok = await reauth(password);
    expect(ok.status).toBe(200);
    const fresh = decodeJwt(((await ok.json()) as { access_token: string }).access_token);
    expect(Number(fresh['auth_time'])).toBeGreaterThan(Number(decodeJwt(first)['auth_time']));
    expect((await reauth('wrong password entirely')).status).toBe(401);
  });

  it('refuses to create a user with a weak password or for a missing site', async () => {
    const weak = await cli.run(['user', 'create', '--email', 'weak@clinic.ca', '--site', site], 'short\n');
    expect(weak.code).toBe(2);
    expect(weak.stderr).toContain('a password has at least 12 characters');
    const noSite = await cli.run(
      ['user', 'create', '--email', 'lost@clinic.ca', '--site', '999999999'],
      `${password}\n`,
    );
    expect(noSite.code).toBe(1);
    expect(JSON.parse(noSite.stdout)).toEqual({ error: expect.objectContaining({ code: 'no-such-site' }) });
  });
});
