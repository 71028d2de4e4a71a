import {
  type CanActivate,
  type ExecutionContext,
  HttpException,
  Inject,
  Injectable,
  Optional,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AdminTokenVerifier } from './admin-tokens';
import { bearerIdentity } from './bearer-identity';
import { ALLOW_ADMINS, ALLOW_SERVICES, type AllowAdminsOptions } from './decorators';
import type { Principal } from './principal';
import { ServiceTokenVerifier } from './service-tokens';

export interface AuthDenial {
  status: 401 | 403;
  reason: string;
  method: string;
  route: string;
  site: string | null;
  principal: Principal | null;
  sourceAddress: string;
}

/**
 * Optional check that an admin token's session is still open (the vault service, which holds the
 * sessions, provides it; elsewhere a revoked session ends when its short-lived token expires).
 */
export const ADMIN_SESSION_CHECK = Symbol('ADMIN_SESSION_CHECK');
export interface AdminSessionCheck {
  isActive(sessionId: string, userId: string): Promise<boolean>;
}

/** Optional sink for refused calls (the vault service audits refused SEK access). */
export const AUTH_DENIAL_SINK = Symbol('AUTH_DENIAL_SINK');
export interface AuthDenialSink {
  denied(denial: AuthDenial): Promise<void> | void;
}

interface GuardedRequest {
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, string>;
  method: string;
  url: string;
  ip: string;
  routeOptions?: { url?: string };
  principal?: Principal;
}

/**
 * Deny by default: a route must say who may call it (`@AllowAdmins`, `@AllowServices`). Admin
 * tokens are ES256 JWTs from the vault service; service tokens are EdDSA JWTs, each service
 * signing with its own key (an HS256 token, signed with the former shared secret, is a 401). 401 = no valid identity; 403 = valid identity, not allowed here. A route that
 * needs fresh authentication answers 401 with the RFC 9470 step-up challenge.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly admins: AdminTokenVerifier,
    private readonly services: ServiceTokenVerifier,
    @Optional() @Inject(AUTH_DENIAL_SINK) private readonly sink?: AuthDenialSink,
    @Optional() @Inject(ADMIN_SESSION_CHECK) private readonly sessions?: AdminSessionCheck,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const adminRule = this.reflector.getAllAndOverride<AllowAdminsOptions | undefined>(ALLOW_ADMINS, targets);
    const serviceRule = this.reflector.getAllAndOverride<string[] | undefined>(ALLOW_SERVICES, targets);
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const site = adminRule ? (request.params?.[adminRule.siteParam] ?? null) : null;

    const deny = async (
      status: 401 | 403,
      reason: string,
      principal: Principal | null,
      challenge?: string,
      code?: string,
    ): Promise<never> => {
      await this.sink?.denied({
        status,
        reason,
        method: request.method,
        route: request.routeOptions?.url ?? request.url.split('?')[0] ?? '',
        site,
        principal,
        sourceAddress: request.ip,
      });
      const exception = new AuthHttpException(status, reason, challenge, code);
      if (exception.challenge) {
        context
          .switchToHttp()
          .getResponse<{ header(name: string, value: string): unknown }>()
          .header('WWW-Authenticate', exception.challenge);
      }
      throw exception;
    };

    if (!adminRule && !serviceRule) return deny(403, 'route has no access rule', null);
    const identity = await bearerIdentity(request.headers['authorization'], {
      admins: this.admins,
      services: this.services,
    });
    if ('refused' in identity) return deny(401, identity.refused, null);
    if ('mismatch' in identity) {
      const signer = identity.mismatch;
      return deny(403, `service ${signer.service} may not present a token for another service`, signer);
    }
    const { principal } = identity;
    if (principal.kind === 'service') {
      if (!serviceRule?.includes(principal.service))
        return deny(403, `service ${principal.service} may not call this route`, principal);
      request.principal = principal;
      return true;
    }

    if (!adminRule) return deny(403, 'people may not call this route', principal);
    if (this.sessions && !(await this.sessions.isActive(principal.sessionId, principal.userId)))
      return deny(401, 'this session was signed out: sign in again', principal, 'Bearer', 'session-revoked');
    if (site === null || principal.sites[site] !== (adminRule.role ?? 'admin')) {
      return deny(403, `not ${adminRule.role ?? 'admin'} of this site`, principal);
    }
    if (adminRule.mfa && !principal.amr.includes('otp')) {
      return deny(
        403,
        'this action needs two-step sign-in: set up an authenticator app on your account, then sign in with its code',
        principal,
        undefined,
        'mfa-required',
      );
    }
    if (
      adminRule.recentAuthSeconds !== undefined &&
      Date.now() / 1000 - principal.authTime > adminRule.recentAuthSeconds
    ) {
      return deny(
        401,
        'this action needs a fresh sign-in: re-authenticate and retry',
        principal,
        `Bearer error="insufficient_user_authentication", error_description="re-authentication required", max_age=${adminRule.recentAuthSeconds}`,
        'step-up-required',
      );
    }
    request.principal = principal;
    return true;
  }
}

export class AuthHttpException extends HttpException {
  constructor(status: 401 | 403, reason: string, challenge?: string, code?: string) {
    super(
      {
        statusCode: status,
        error: code ?? (status === 401 ? 'unauthorized' : 'forbidden'),
        message: reason,
      },
      status,
    );
    this.challenge = challenge ?? (status === 401 ? 'Bearer' : undefined);
  }
  readonly challenge: string | undefined;
}
