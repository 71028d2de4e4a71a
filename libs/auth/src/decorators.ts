import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Principal, SiteRole } from './principal';

export const ALLOW_ADMINS = 'cloud-connect:allow-admins';
export const ALLOW_SERVICES = 'cloud-connect:allow-services';

export interface AllowAdminsOptions {
  /** Route parameter holding the site number the caller must hold `role` at. */
  siteParam: string;
  role?: SiteRole;
  /** The person must have proved their password within this many seconds (re-authentication). */
  recentAuthSeconds?: number;
  /** The person must have signed in with a second factor (TOTP or a recovery code). */
  mfa?: boolean;
}

/** People who hold `role` (default admin) at the route's site may call this route. */
export const AllowAdmins = (options: AllowAdminsOptions): MethodDecorator & ClassDecorator =>
  SetMetadata(ALLOW_ADMINS, options);

/** These services (by name, from their service token) may call this route. */
export const AllowServices = (...services: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(ALLOW_SERVICES, services);

/** The authenticated caller, set by AuthGuard. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const request = ctx.switchToHttp().getRequest<{ principal?: Principal }>();
  if (!request.principal) throw new Error('CurrentPrincipal used on a route without AuthGuard');
  return request.principal;
});

export const PUBLIC_ROUTE = 'cloud-connect:public-route';

/** Anyone may call this route (no token); `why` says what makes that safe (lint rule route-access). */
export const Public = (why: string): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, why);
