import { jwtVerify, SignJWT } from 'jose';
import type { ServicePrincipal } from './principal';
import { InvalidTokenError } from './admin-tokens';

const SERVICE_TOKEN_ISSUER = 'cloud-connect/service';
const SERVICE_TOKEN_TTL_SECONDS = 60;

function audienceOf(service: string): string {
  return `cloud-connect/${service}`;
}

/**
 * Short-lived HS256 tokens for service-to-service calls: the caller is the subject, the callee
 * the audience, so a token minted for `vault` is refused by `emr-gateway`. In the cluster this
 * sits beside mTLS; it is never "trusted because internal".
 */
export class ServiceTokenIssuer {
  private readonly key: Uint8Array;
  private readonly cache = new Map<string, { token: string; expiresAt: number }>();

  constructor(
    private readonly serviceName: string,
    secret: string,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async tokenFor(audienceService: string): Promise<string> {
    const cached = this.cache.get(audienceService);
    if (cached && cached.expiresAt - Date.now() > 15000) return cached.token;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'svc+jwt' })
      .setIssuer(SERVICE_TOKEN_ISSUER)
      .setSubject(this.serviceName)
      .setAudience(audienceOf(audienceService))
      .setIssuedAt()
      .setExpirationTime(`${SERVICE_TOKEN_TTL_SECONDS}s`)
      .sign(this.key);
    this.cache.set(audienceService, { token, expiresAt: Date.now() + SERVICE_TOKEN_TTL_SECONDS * 1000 });
    return token;
  }
}

export class ServiceTokenVerifier {
  private readonly key: Uint8Array;

  constructor(
    private readonly serviceName: string,
    secret: string,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async verify(token: string): Promise<ServicePrincipal> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: SERVICE_TOKEN_ISSUER,
        audience: audienceOf(this.serviceName),
        algorithms: ['HS256'],
        clockTolerance: 5,
        maxTokenAge: `${SERVICE_TOKEN_TTL_SECONDS + 5}s`,
      });
      if (!payload.sub) throw new Error('no subject');
      return { kind: 'service', service: payload.sub };
    } catch (error) {
      throw new InvalidTokenError(error instanceof Error ? error.name : 'invalid token');
    }
  }
}
