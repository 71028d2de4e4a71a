import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import type { FastifyInstance } from 'fastify';
import { configSchema } from './config';
import { upstreamFor } from './routes';
import { buildServer, publicError } from './server';
import { SessionSealer } from './session';
import { tamperedCopy } from '@cloud-connect/testing';

const SECRET = 'unit-test-console-session-secret-0123456789';

async function fakeAdminToken(sites: Record<string, 'admin'>): Promise<string> {
  return new SignJWT({ email: 'admin@clinic.ca', sites, auth_time: Math.floor(Date.now() / 1000) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('u1')
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode('not-a-real-signing-key-0123456789abcdef'));
}

describe('console server (no upstream)', () => {
  let app: FastifyInstance;
  const web = mkdtempSync(join(tmpdir(), 'console-web-'));
  writeFileSync(
    join(web, 'index.html'),
    '<meta name="csp-nonce" content="__CSP_NONCE__"><div id="root"></div>',
  );

  beforeAll(async () => {
    const config = configSchema.parse({
      CONSOLE_SESSION_SECRET: SECRET,
      CONSOLE_COOKIE_SECURE: 'true',
      CONSOLE_WEB_DIR: web,
      VAULT_SERVICE_URL: 'http://127.0.0.1:9',
      EMR_GATEWAY_URL: 'http://127.0.0.1:9',
      REFERRAL_INTAKE_URL: 'http://127.0.0.1:9',
      LOG_LEVEL: 'silent',
    });
    app = await buildServer(config);
  });
  afterAll(() => app.close());

  it('serves pages with a per-response nonce in a strict CSP and refuses framing', async () => {
    const [a, b] = await Promise.all([app.inject({ url: '/' }), app.inject({ url: '/dashboard' })]);
    const csp = String(a.headers['content-security-policy']);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain('unsafe-eval');
    expect(a.headers['x-frame-options']).toBe('DENY');
    expect(a.headers['strict-transport-security']).toContain('max-age=');
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1] ?? '';
    expect(a.body).toContain(`content="${nonce}"`);
    expect(b.headers['content-security-policy']).not.toEqual(csp);
  });

  it('refuses state changes from another origin, or without the CSRF token', async () => {
    const cross = await app.inject({
      method: 'POST',
      url: '/session',
      headers: { host: 'console.test', origin: 'https://evil.example' },
      payload: { email: 'a@b.c', password: 'x' },
    });
    expect(cross.statusCode).toBe(403);
    const noOrigin = await app.inject({
      method: 'POST',
      url: '/session',
      payload: { email: 'a@b.c', password: 'x' },
    });
    expect(noOrigin.statusCode).toBe(403);

    const sealer = new SessionSealer(SECRET);
    const session = sealer.open(await fakeAdminToken({ '1000': 'admin' }));
    const cookie = `__Host-cc-console=${await sealer.seal(session)}`;
    const headers = { host: 'console.test', origin: 'https://console.test', cookie };
    const withoutToken = await app.inject({
      method: 'POST',
      url: '/api/admin/sites/1000/emr/sync',
      headers,
      payload: {},
    });
    expect(withoutToken.statusCode).toBe(403);
    expect(withoutToken.json()).toEqual({ code: 'csrf', message: expect.any(String) });
    const wrongToken = await app.inject({
      method: 'DELETE',
      url: '/session',
      headers: { ...headers, 'x-csrf-token': tamperedCopy(session.csrf) },
    });
    expect(wrongToken.statusCode).toBe(403);
    const signOut = await app.inject({
      method: 'DELETE',
      url: '/session',
      headers: { ...headers, 'x-csrf-token': session.csrf },
    });
    expect(signOut.statusCode).toBe(204);
    expect(String(signOut.headers['set-cookie'])).toMatch(/__Host-cc-console=;.*Expires=Thu, 01 Jan 1970/);
  });

  it('shows the page the claims of the session, never the token; a tampered cookie is no session', async () => {
    const sealer = new SessionSealer(SECRET);
    const token = await fakeAdminToken({ '1000': 'admin', '2000': 'admin' });
    const sealed = await sealer.seal(sealer.open(token));
    const ok = await app.inject({ url: '/session', headers: { cookie: `__Host-cc-console=${sealed}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      email: 'admin@clinic.ca',
      sites: { '1000': 'admin', '2000': 'admin' },
    });
    expect(ok.body).not.toContain(token);
    expect(sealed).not.toContain(token.split('.')[1]);
    const tampered = await app.inject({
      url: '/session',
      headers: { cookie: `__Host-cc-console=${tamperedCopy(sealed)}` },
    });
    expect(tampered.statusCode).toBe(401);
    const otherKey = await new SessionSealer(`${SECRET}-other`).seal(sealer.open(token));
    expect(
      (await app.inject({ url: '/session', headers: { cookie: `__Host-cc-console=${otherKey}` } }))
        .statusCode,
    ).toBe(401);
  });

  it('forwards only the admin API (never service-to-service routes); upstream down is a 502 without internals', async () => {
    expect(upstreamFor('/admin/sites/1000/emr')).toBe('emr-gateway');
    expect(upstreamFor('/admin/sites/1000/emr/settings')).toBe('emr-gateway');
    expect(upstreamFor('/admin/sites/1000')).toBe('vault');
    expect(upstreamFor('/sites/1000/sek')).toBe('vault');
    expect(upstreamFor('/admin/sites/1000/integrations/abc/deliveries')).toBe('referral-intake');
    expect(upstreamFor('/sites/1000/phi/encrypt')).toBeNull();
    expect(upstreamFor('/admin/sites/../../x')).toBeNull();
    expect(upstreamFor('/auth/login')).toBeNull();
    expect(upstreamFor('/admin/sites/1000/admins')).toBe('vault');
    expect(upstreamFor('/admin/sites/1000/admins/0b6f4a52-3c1e-4a4e-9a43-0d6c2f1f3e10/reset')).toBe('vault');
    expect(upstreamFor('/admin/sites/1000/admins/x/reset')).toBeNull();
    expect(upstreamFor('/admin/openapi.json')).toBe('vault');
    expect(upstreamFor('/auth/password/reset')).toBeNull();

    const sealer = new SessionSealer(SECRET);
    const cookie = `__Host-cc-console=${await sealer.seal(sealer.open(await fakeAdminToken({ '1000': 'admin' })))}`;
    const down = await app.inject({ url: '/api/admin/sites/1000/emr', headers: { cookie } });
    expect(down.statusCode).toBe(502);
    expect(down.body).not.toContain('127.0.0.1');
    expect((await app.inject({ url: '/api/sites/1000/phi/decrypt', headers: { cookie } })).statusCode).toBe(
      404,
    );
  });

  it('keeps upstream error messages for people and drops everything else', () => {
    expect(
      publicError(422, { code: 'auth-rejected', message: 'PS Suite rejected the credentials', stack: 'x' }),
    ).toEqual({
      code: 'auth-rejected',
      message: 'PS Suite rejected the credentials',
    });
    expect(publicError(500, { message: 'relation "x" does not exist' }).message).not.toContain('relation');
    expect(publicError(400, { error: 'invalid_request', message: 'm', details: ['a: b', 3] })).toEqual({
      code: 'invalid_request',
      message: 'm',
      details: ['a: b'],
    });
  });

  it('forgotten password and one-time links: same origin only, no internals when the vault service is down', async () => {
    const cross = await app.inject({
      method: 'POST',
      url: '/session/password/forgot',
      headers: { host: 'console.test', origin: 'https://evil.example' },
      payload: { email: 'a@b.ca' },
    });
    expect(cross.statusCode).toBe(403);
    const same = { host: 'console.test', origin: 'https://console.test' };
    const empty = await app.inject({
      method: 'POST',
      url: '/session/password/forgot',
      headers: same,
      payload: {},
    });
    expect(empty.json()).toEqual({ code: 'invalid-request', message: 'Enter your e-mail.' });
    const down = await app.inject({
      method: 'POST',
      url: '/session/password/reset',
      headers: same,
      payload: { token: 'x'.repeat(43), password: 'a-long-enough-password' },
    });
    expect(down.statusCode).toBe(502);
    expect(down.body).not.toContain('127.0.0.1');
  });
});
