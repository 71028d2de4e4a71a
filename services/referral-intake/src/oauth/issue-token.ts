import { ConcurrencyGate, GateBusyError } from '@cloud-connect/auth';
import type { PostgresAttemptThrottle } from '@cloud-connect/db';
import argon2 from 'argon2';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type JWTVerifyGetKey,
} from 'jose';
import { checkEgressUrl, type EgressClient } from '@cloud-connect/service-kit';
import { createHash } from 'node:crypto';
import type { AccessTokens } from './access-tokens';
import { siteOfClientId } from './oauth-client';
import { ARGON2_OPTIONS } from './oauth-client-use-cases';
import { type Db, OAuthClientsRepository } from './oauth-clients.repository';
import { grantScopes } from './scopes';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const ASSERTION_ALGS = ['RS384', 'ES384'];
const MAX_ASSERTION_LIFETIME_S = 300;
const CLOCK_SKEW_S = 5;

export interface TokenRequest {
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
  sourceAddress: string;
  /** The absolute URL of this token endpoint (the audience of client assertions). */
  tokenUrl: string;
}

export interface TokenAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

function error(
  status: number,
  code: string,
  description: string,
  headers: Record<string, string> = {},
): TokenAnswer {
  return {
    status,
    headers: { ...NO_STORE, ...headers },
    body: { error: code, error_description: description },
  };
}

const invalidClient = (description: string): TokenAnswer =>
  error(401, 'invalid_client', description, {
    'WWW-Authenticate': 'Basic realm="cloud-connect", charset="UTF-8"',
  });

type Credentials =
  | { method: 'client_secret_basic' | 'client_secret_post'; clientId: string; secret: string }
  | { method: 'private_key_jwt'; clientId: string; assertion: string };

/**
 * POST /oauth/token, client_credentials grant (RFC 6749 §4.4) with client_secret_basic,
 * client_secret_post and private_key_jwt (RFC 7523 as SMART Backend Services profiles it).
 */
export class IssueToken {
  private readonly repo: OAuthClientsRepository;
  private readonly remoteKeySets = new Map<string, JWTVerifyGetKey>();
  /** Secrets already checked with Argon2 (by secret row and SHA-256), so a client polling is not slowed. */
  private readonly verified = new Map<string, number>();
  private dummyHash: Promise<string> | undefined;
  /** Argon2id verifications at once (19 MiB each); beyond 64 waiting the endpoint answers 503. */
  private readonly gate = new ConcurrencyGate(4, 64);

  constructor(
    private readonly deps: {
      db: Db;
      schema: string;
      tokens: AccessTokens;
      /** Attempts per client id and per source address, counted before the check (shared by replicas). */
      throttle: PostgresAttemptThrottle;
      limits: { client: number; address: number };
      accessTokenTtlSeconds: number;
      /** JWK Set URLs are fetched through it (https, public addresses; no redirects). */
      egress: EgressClient;
    },
  ) {
    this.repo = new OAuthClientsRepository(deps.schema);
  }

  async execute(request: TokenRequest): Promise<TokenAnswer> {
    const mediaType = (request.contentType ?? '').split(';')[0]?.trim().toLowerCase();
    if (mediaType !== 'application/x-www-form-urlencoded') {
      return error(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams(request.body);
    const params = new Map<string, string>();
    for (const [name, value] of form) {
      if (params.has(name)) return error(400, 'invalid_request', `parameter ${name} is repeated`);
      params.set(name, value);
    }
    const grantType = params.get('grant_type');
    if (!grantType) return error(400, 'invalid_request', 'grant_type is missing');
    if (grantType !== 'client_credentials')
      return error(
        400,
        'unsupported_grant_type',
        `grant_type ${grantType} is not supported; use client_credentials`,
      );

    const credentials = this.credentialsOf(request.authorization, params);
    if ('status' in credentials) return credentials;

    const limits = [
      { key: `a:${request.sourceAddress}`, max: this.deps.limits.address },
      { key: `c:${credentials.clientId}`, max: this.deps.limits.client },
    ];
    const wait = await this.deps.throttle.take(limits);
    if (wait > 0) {
      return error(429, 'temporarily_unavailable', 'too many failed authentications; retry later', {
        'Retry-After': String(wait),
      });
    }
    const site = siteOfClientId(credentials.clientId);
    let failure: string | null;
    try {
      failure =
        credentials.method === 'private_key_jwt'
          ? await this.checkAssertion(site, credentials.clientId, credentials.assertion, request.tokenUrl)
          : await this.checkSecret(site, credentials.clientId, credentials.secret);
    } catch (caught) {
      if (!(caught instanceof GateBusyError)) throw caught;
      await this.deps.throttle.forgive(limits.map((l) => l.key));
      return error(503, 'temporarily_unavailable', 'too many authentications at once; retry shortly', {
        'Retry-After': '1',
      });
    }
    if (failure !== null || site === null) {
      return invalidClient(failure ?? 'client authentication failed');
    }
    await this.deps.throttle.forgive(limits.map((l) => l.key));

    const [client] = await this.repo.list(this.deps.db, site, credentials.clientId);
    if (!client || client.revokedAt) return invalidClient('client authentication failed');
    const granted = grantScopes(client.scopes, params.get('scope'));
    if ('refused' in granted)
      return error(400, 'invalid_scope', `scope not granted to this client: ${granted.refused.join(' ')}`);

    const ttl = this.deps.accessTokenTtlSeconds;
    const accessToken = await this.deps.tokens.issue(
      { site, clientId: credentials.clientId, scopes: granted.scopes },
      ttl,
    );
    return {
      status: 200,
      headers: NO_STORE,
      body: {
        access_token: accessToken,
        token_type: 'bearer',
        expires_in: ttl,
        scope: granted.scopes.join(' '),
      },
    };
  }

  private credentialsOf(
    authorization: string | undefined,
    params: Map<string, string>,
  ): Credentials | TokenAnswer {
    const methods: Credentials[] = [];
    if (authorization !== undefined) {
      const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(authorization.trim());
      const decoded = match ? Buffer.from(match[1] ?? '', 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      if (colon < 1) return invalidClient('the Authorization header is not HTTP Basic client credentials');
      try {
        // RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding.
        const clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
        const secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
        methods.push({ method: 'client_secret_basic', clientId, secret });
      } catch {
        return invalidClient('the Basic credentials are not form-encoded');
      }
    }
    const bodySecret = params.get('client_secret');
    if (bodySecret !== undefined) {
      const clientId = params.get('client_id');
      if (!clientId) return error(400, 'invalid_request', 'client_secret needs client_id');
      methods.push({ method: 'client_secret_post', clientId, secret: bodySecret });
    }
    const assertionType = params.get('client_assertion_type');
    const assertion = params.get('client_assertion');
    if (assertionType !== undefined || assertion !== undefined) {
      if (assertionType !== JWT_BEARER)
        return error(400, 'invalid_request', `client_assertion_type must be ${JWT_BEARER}`);
      if (!assertion) return error(400, 'invalid_request', 'client_assertion is missing');
      let iss: unknown;
      try {
        iss = decodeJwt(assertion).iss;
      } catch {
        return invalidClient('client_assertion is not a JWT');
      }
      if (typeof iss !== 'string') return invalidClient('client_assertion has no iss');
      const clientId = params.get('client_id');
      if (clientId !== undefined && clientId !== iss)
        return invalidClient('client_id does not match the assertion issuer');
      methods.push({ method: 'private_key_jwt', clientId: iss, assertion });
    }
    if (methods.length > 1)
      return error(400, 'invalid_request', 'use exactly one client authentication method');
    const [only] = methods;
    return only ?? invalidClient('client authentication is required');
  }

  /** null when the secret is a valid secret of a client that is not revoked; else why not. */
  private async checkSecret(site: string | null, clientId: string, secret: string): Promise<string | null> {
    const secrets = site ? await this.repo.validSecrets(this.deps.db, site, clientId) : [];
    const digest = createHash('sha256').update(secret).digest('base64url');
    const now = Date.now();
    for (const row of secrets) {
      const cacheKey = `${row.id}:${digest}`;
      if ((this.verified.get(cacheKey) ?? 0) > now) return null;
      if (await this.gate.run(() => argon2.verify(row.hash, secret))) {
        if (this.verified.size > 10000) this.verified.clear();
        this.verified.set(cacheKey, now + 300000);
        return null;
      }
    }
    if (secrets.length === 0) {
      // Same cost as a wrong secret, so response time does not tell which client ids exist.
      this.dummyHash ??= argon2.hash('not-a-secret', ARGON2_OPTIONS);
      const dummy = await this.dummyHash;
      await this.gate.run(() => argon2.verify(dummy, secret));
    }
    return 'client authentication failed';
  }

  private async checkAssertion(
    site: string | null,
    clientId: string,
    assertion: string,
    tokenUrl: string,
  ): Promise<string | null> {
    const [client] = site ? await this.repo.list(this.deps.db, site, clientId) : [];
    if (!site || !client || client.revokedAt) return 'client authentication failed';
    let header;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      return 'client_assertion is not a JWT';
    }
    if (typeof header.alg !== 'string' || !ASSERTION_ALGS.includes(header.alg))
      return `client_assertion must be signed with ${ASSERTION_ALGS.join(' or ')}`;
    if (typeof header.kid !== 'string') return 'client_assertion header needs a kid';
    let keySet: JWTVerifyGetKey;
    if (client.jwks) keySet = createLocalJWKSet(client.jwks);
    else if (client.jwksUrl) {
      const remote = this.remoteKeySet(client.jwksUrl);
      if (!remote) return 'the registered JWK Set URL is not usable here (https required)';
      keySet = remote;
    } else return 'this client has no JWK Set registered for private_key_jwt';

    let payload;
    try {
      payload = (
        await jwtVerify(assertion, keySet, {
          algorithms: ASSERTION_ALGS,
          issuer: clientId,
          subject: clientId,
          audience: tokenUrl,
          requiredClaims: ['exp', 'jti'],
          clockTolerance: CLOCK_SKEW_S,
        })
      ).payload;
    } catch (failure) {
      const code = (failure as { code?: string }).code;
      if (code === 'ERR_JWKS_NO_MATCHING_KEY') return 'no registered key has this kid';
      if (code === 'ERR_JWT_EXPIRED') return 'client_assertion has expired';
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED')
        return `client_assertion claim check failed: ${(failure as { claim?: string }).claim ?? ''}`;
      return 'client_assertion signature or format is invalid';
    }
    const exp = payload.exp ?? 0;
    if (exp > Date.now() / 1000 + MAX_ASSERTION_LIFETIME_S + CLOCK_SKEW_S)
      return 'client_assertion exp is more than 5 minutes ahead';
    const jti = payload.jti ?? '';
    if (jti.length === 0 || jti.length > 256) return 'client_assertion needs a jti';
    if (!(await this.repo.useAssertion(this.deps.db, site, clientId, jti, new Date(exp * 1000))))
      return 'client_assertion jti was already used';
    return null;
  }

  private remoteKeySet(url: string): JWTVerifyGetKey | null {
    let keySet = this.remoteKeySets.get(url);
    if (!keySet) {
      let checked: URL;
      try {
        checked = checkEgressUrl(url, this.deps.egress.policy);
      } catch {
        return null;
      }
      keySet = createRemoteJWKSet(checked, {
        agent: this.deps.egress.agentFor(checked),
        timeoutDuration: 5000,
        cooldownDuration: 30000,
        cacheMaxAge: 600000,
      });
      this.remoteKeySets.set(url, keySet);
    }
    return keySet;
  }
}
