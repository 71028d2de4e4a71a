import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { Controller, Get, Module, Param, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import {
  ADMIN_KEY_RESOLVER,
  ADMIN_SESSION_CHECK,
  AllowAdmins,
  AllowServices,
  AUTH_DENIAL_SINK,
  AuthGuard,
  AuthModule,
  CurrentPrincipal,
  publicJwkOf,
  ServiceTokenIssuer,
  signAdminToken,
  type AuthDenial,
  type Principal,
} from './index';

function serviceKey(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}
const KEYS: Record<string, string> = {
  'referral-intake': serviceKey(),
  scheduler: serviceKey(),
  notifier: serviceKey(),
};
const PUBLIC_KEYS = JSON.stringify({
  keys: Object.entries(KEYS).map(([service, pem]) => publicJwkOf(service, createPrivateKey(pem))),
});
const issuer = (service: string, pem = KEYS[service] ?? '') =>
  new ServiceTokenIssuer(service, { SERVICE_SIGNING_KEY: pem });

@Controller('sites/:site')
@UseGuards(AuthGuard)
class ProbeController {
  @Get('admin')
  @AllowAdmins({ siteParam: 'site' })
  admin(@CurrentPrincipal() principal: Principal, @Param('site') site: string): unknown {
    return { principal, site };
  }

  @Get('fresh')
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: 300 })
  fresh(): unknown {
    return { ok: true };
  }

  @Get('secret')
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: 300, mfa: true })
  secret(): unknown {
    return { ok: true };
  }

  @Get('internal')
  @AllowServices('referral-intake')
  internal(@CurrentPrincipal() principal: Principal): unknown {
    return principal;
  }

  @Get('nobody')
  nobody(): unknown {
    return { leaked: true };
  }
}

describe('AuthGuard', () => {
  let app: NestFastifyApplication;
  let base: string;
  let key: { privateKey: KeyLike; kid: string };
  let otherKey: { privateKey: KeyLike; kid: string };
  const denials: AuthDenial[] = [];
  const revoked = new Set<string>();
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    const other = await generateKeyPair('ES256');
    key = { privateKey: pair.privateKey, kid: 'k1' };
    otherKey = { privateKey: other.privateKey, kid: 'k1' };
    const jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] };

    @Module({
      imports: [
        AuthModule.forRoot({
          serviceName: 'vault',
          serviceKeys: { SERVICE_SIGNING_KEY: serviceKey(), SERVICE_PUBLIC_KEYS: PUBLIC_KEYS },
        }),
      ],
      controllers: [ProbeController],
      providers: [],
    })
    class ProbeModule {}

    @Module({
      imports: [ProbeModule],
      providers: [
        { provide: ADMIN_KEY_RESOLVER, useValue: { getKey: createLocalJWKSet(jwks) } },
        { provide: AUTH_DENIAL_SINK, useValue: { denied: (d: AuthDenial) => void denials.push(d) } },
        {
          provide: ADMIN_SESSION_CHECK,
          useValue: { isActive: (sid: string) => Promise.resolve(!revoked.has(sid)) },
        },
      ],
      exports: [ADMIN_KEY_RESOLVER, AUTH_DENIAL_SINK, ADMIN_SESSION_CHECK],
    })
    class KeysModule {}
    // AuthModule is global; the key resolver must be visible to it.
    Module({ imports: [KeysModule] })(KeysModule);

    app = await NestFactory.create<NestFastifyApplication>(
      { module: class Root {}, imports: [ProbeModule, { module: KeysModule, global: true }] },
      new FastifyAdapter(),
      { logger: false },
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = await app.getUrl();
  });

  afterAll(async () => {
    await app.close();
  });

  const get = (path: string, token?: string) =>
    fetch(
      `${base.replace('[::1]', '127.0.0.1')}${path}`,
      token ? { headers: { authorization: `Bearer ${token}` } } : {},
    );
  const admin = (
    sites: Record<string, 'admin' | 'member'>,
    authTime = now(),
    signing = key,
    session: { sessionId?: string; amr?: ('pwd' | 'otp')[] } = {},
  ) =>
    signAdminToken(
      {
        userId: 'u-1',
        email: 'a@clinic.ca',
        sites,
        authTime,
        sessionId: session.sessionId ?? '5d7b1a52-8f1e-4c1e-9d3a-2b7c9e0f1a23',
        amr: session.amr ?? ['pwd'],
      },
      signing,
    );

  it('lets an admin of the site in and hands the route the principal', async () => {
    const response = await get('/sites/1000/admin', await admin({ '1000': 'admin' }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      site: '1000',
      principal: expect.objectContaining({ kind: 'admin', userId: 'u-1', sites: { '1000': 'admin' } }),
    });
  });

  it('answers 401 with a Bearer challenge without a token, or with a malformed or foreign one', async () => {
    for (const token of [undefined, 'not.a.jwt', await admin({ '1000': 'admin' }, now(), otherKey)]) {
      const response = await get('/sites/1000/admin', token);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it('refuses an unsigned (alg none) token and an expired one', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ sub: 'u-1', sites: { '1000': 'admin' } })).toString(
      'base64url',
    );
    expect((await get('/sites/1000/admin', `${header}.${body}.`)).status).toBe(401);
    const expired = await new SignJWT({
      email: 'a@clinic.ca',
      sites: { '1000': 'admin' },
      auth_time: now() - 7200,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('cloud-connect/vault')
      .setAudience('cloud-connect/admin')
      .setSubject('u-1')
      .setIssuedAt(now() - 7200)
      .setExpirationTime(now() - 3600)
      .sign(key.privateKey);
    expect((await get('/sites/1000/admin', expired)).status).toBe(401);
  });

  it('answers 403 to an admin of another site and to a member, and records the denial', async () => {
    denials.length = 0;
    expect((await get('/sites/1000/admin', await admin({ '2000': 'admin' }))).status).toBe(403);
    expect((await get('/sites/1000/admin', await admin({ '1000': 'member' }))).status).toBe(403);
    expect(denials.map((d) => [d.status, d.site, d.principal?.kind])).toEqual([
      [403, '1000', 'admin'],
      [403, '1000', 'admin'],
    ]);
  });

  it('asks for re-authentication (RFC 9470) when the sign-in is not fresh enough', async () => {
    const stale = await get('/sites/1000/fresh', await admin({ '1000': 'admin' }, now() - 600));
    expect(stale.status).toBe(401);
    expect(stale.headers.get('www-authenticate')).toContain('insufficient_user_authentication');
    expect(((await stale.json()) as { error: string }).error).toBe('step-up-required');
    expect((await get('/sites/1000/fresh', await admin({ '1000': 'admin' }, now() - 10))).status).toBe(200);
  });

  it('answers 403 mfa-required to a password-only sign-in where a second factor is required', async () => {
    const pwd = await get('/sites/1000/secret', await admin({ '1000': 'admin' }));
    expect(pwd.status).toBe(403);
    expect(((await pwd.json()) as { error: string }).error).toBe('mfa-required');
    const otp = await admin({ '1000': 'admin' }, now(), key, { amr: ['pwd', 'otp'] });
    expect((await get('/sites/1000/secret', otp)).status).toBe(200);
  });

  it('refuses a token whose session was revoked (401 session-revoked), keeps the others', async () => {
    const sessionId = '0b6f3c1e-2a4d-4e8f-9c1b-7a5d3e2f1c09';
    const token = await admin({ '1000': 'admin' }, now(), key, { sessionId });
    expect((await get('/sites/1000/admin', token)).status).toBe(200);
    revoked.add(sessionId);
    const refused = await get('/sites/1000/admin', token);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: string }).error).toBe('session-revoked');
    expect((await get('/sites/1000/admin', await admin({ '1000': 'admin' }))).status).toBe(200);
  });

  it('accepts a service token for this service from an allowed caller only', async () => {
    const fromIntake = await issuer('referral-intake').tokenFor('vault');
    const ok = await get('/sites/1000/internal', fromIntake);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ kind: 'service', service: 'referral-intake' });

    const fromScheduler = await issuer('scheduler').tokenFor('vault');
    expect((await get('/sites/1000/internal', fromScheduler)).status).toBe(403);
    const forAnotherService = await issuer('referral-intake').tokenFor('emr-gateway');
    expect((await get('/sites/1000/internal', forAnotherService)).status).toBe(401);
    // A person may not use a service-only route, and a service may not use a person's route.
    expect((await get('/sites/1000/internal', await admin({ '1000': 'admin' }))).status).toBe(403);
    expect((await get('/sites/1000/admin', fromIntake)).status).toBe(403);
  });

  it("refuses a token naming one service but signed with another service's key", async () => {
    // The notifier's key, claiming to be referral-intake: under its own kid (a valid signature by
    // the notifier naming another service: 403, attributed to the notifier), and under intake's.
    const notifierKey = createPrivateKey(KEYS['notifier'] ?? '');
    const forged = (kid: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'EdDSA', typ: 'svc+jwt', kid })
        .setIssuer('cloud-connect/service')
        .setSubject('referral-intake')
        .setAudience('cloud-connect/vault')
        .setIssuedAt()
        .setExpirationTime('60s')
        .sign(notifierKey);
    denials.length = 0;
    expect((await get('/sites/1000/internal', await forged('notifier'))).status).toBe(403);
    expect(denials.map((d) => [d.status, d.principal])).toEqual([
      [403, { kind: 'service', service: 'notifier' }],
    ]);
    expect((await get('/sites/1000/internal', await forged('referral-intake'))).status).toBe(401);
    expect((await get('/sites/1000/internal', await forged('referral-intake.next'))).status).toBe(401);
    // A key nobody published, and a service with no published key.
    expect(
      (await get('/sites/1000/internal', await issuer('referral-intake', serviceKey()).tokenFor('vault')))
        .status,
    ).toBe(401);
    expect(
      (await get('/sites/1000/internal', await issuer('emr-gateway', serviceKey()).tokenFor('vault'))).status,
    ).toBe(401);
  });

  it('refuses an HS256 token signed with the former shared secret', async () => {
    const legacy = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'svc+jwt' })
      .setIssuer('cloud-connect/service')
      .setSubject('referral-intake')
      .setAudience('cloud-connect/vault')
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(new TextEncoder().encode('unit-test-service-secret-0123456789abcdef'));
    const answer = await get('/sites/1000/internal', legacy);
    expect(answer.status).toBe(401);
    expect(((await answer.json()) as { message: string }).message).toMatch(/shared-secret/);
  });

  it('stops the start-up on missing or wrong key configuration, naming the variable only', () => {
    const pem = serviceKey();
    expect(() =>
      AuthModule.forRoot({ serviceName: 'vault', serviceKeys: { SERVICE_PUBLIC_KEYS: PUBLIC_KEYS } }),
    ).toThrow('SERVICE_SIGNING_KEY or SERVICE_SIGNING_KEY_FILE is required');
    expect(() =>
      AuthModule.forRoot({
        serviceName: 'vault',
        serviceKeys: { SERVICE_SIGNING_KEY: pem, SERVICE_PUBLIC_KEYS: '{}' },
      }),
    ).toThrow('SERVICE_PUBLIC_KEYS must be a JWK Set with at least one key');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
    });
    expect(() =>
      AuthModule.forRoot({
        serviceName: 'vault',
        serviceKeys: { SERVICE_SIGNING_KEY: ec.toString(), SERVICE_PUBLIC_KEYS: PUBLIC_KEYS },
      }),
    ).toThrow('SERVICE_SIGNING_KEY must be an Ed25519 key');
    const withPrivate = JSON.stringify({
      keys: [{ ...createPrivateKey(pem).export({ format: 'jwk' }), kid: 'vault' }],
    });
    let message = '';
    try {
      AuthModule.forRoot({
        serviceName: 'vault',
        serviceKeys: { SERVICE_SIGNING_KEY: pem, SERVICE_PUBLIC_KEYS: withPrivate },
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('SERVICE_PUBLIC_KEYS key vault holds a private key: publish public keys only');
    expect(() =>
      AuthModule.forRoot({
        serviceName: 'vault',
        serviceKeys: { SERVICE_SIGNING_KEY_FILE: '/nonexistent/key.pem', SERVICE_PUBLIC_KEYS: PUBLIC_KEYS },
      }),
    ).toThrow('SERVICE_SIGNING_KEY_FILE cannot be read (ENOENT)');
  });

  it('denies by default a route that declares no rule', async () => {
    expect((await get('/sites/1000/nobody', await admin({ '1000': 'admin' }))).status).toBe(403);
  });
});
