import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { actorOf, type Principal } from './principal';

/** Who calls a site's route: the site of the path, the authenticated caller, its audit actor and address. */
export interface SiteCall {
  /** The route parameter (`site` unless named otherwise), as given: the use case validates it. */
  site: string;
  principal: Principal;
  /** `user:<id>` or `service:<name>` (see `actorOf`). */
  actor: string;
  /** The client address as the HTTP layer saw it (after trusted proxies), as `@Ip()` gives it. */
  sourceAddress: string;
}

interface SiteRequest {
  principal?: Principal;
  params?: Record<string, string | undefined>;
  ip: string;
}

/**
 * The caller of a site's route in one parameter, set by AuthGuard: `@SiteCaller() call: SiteCall`
 * (or `@SiteCaller('siteNumber')` for a parameter of another name).
 */
export const SiteCaller = createParamDecorator(
  (siteParam: string | undefined, ctx: ExecutionContext): SiteCall => {
    const request = ctx.switchToHttp().getRequest<SiteRequest>();
    const { principal } = request;
    if (!principal) throw new Error('SiteCaller used on a route without AuthGuard');
    return {
      site: request.params?.[siteParam ?? 'site'] ?? '',
      principal,
      actor: actorOf(principal),
      sourceAddress: request.ip,
    };
  },
);
