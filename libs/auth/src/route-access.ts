/**
 * Who may call a raw Fastify route (FHIR, OAuth, webhooks, the console's own routes): the route's
 * options carry it as `config.access`, and the lint rule `cloud-connect/route-access` requires it
 * on every route. Nest routes declare it with @AllowAdmins, @AllowServices or @Public instead.
 */
export type RouteAccess =
  | 'public'
  | 'site-admin'
  | 'site-member'
  | 'operator'
  | 'oauth-client'
  | 'integration'
  | 'session'
  | `service:${string}`;

/** Route options declaring who may call the route: `scope.get(path, routeAccess('public'), handler)`. */
export function routeAccess(...access: [RouteAccess, ...RouteAccess[]]): {
  config: { access: RouteAccess[] };
} {
  return { config: { access } };
}
