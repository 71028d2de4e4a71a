/**
 * SMART system scopes in v1 (`system/ServiceRequest.read`) and v2 (`system/ServiceRequest.rs`)
 * syntax, reduced to a resource type (or `*`) and a set of the v2 letters c r u d s.
 */
export interface SmartScope {
  resource: string;
  permissions: Set<string>;
}

const V1: Record<string, string> = { read: 'rs', write: 'cud', '*': 'cruds' };
const SCOPE = /^system\/(\*|[A-Z][A-Za-z]+)\.(read|write|\*|c?r?u?d?s?)(\?.*)?$/;

/** Resource types a client may be granted scopes on. */
export const SCOPE_RESOURCES = [
  '*',
  'ServiceRequest',
  'Bundle',
  'Patient',
  'Practitioner',
  'PractitionerRole',
  'Task',
  'Appointment',
  'QuestionnaireResponse',
];

/** Resource types integrators write to through status back (POST $process-message). */
export const STATUS_BACK_RESOURCES = ['ServiceRequest', 'Task', 'Appointment'];

export function parseScope(scope: string): SmartScope | null {
  const match = SCOPE.exec(scope);
  if (!match || match[3] !== undefined) return null;
  const resource = match[1] ?? '';
  const perm = match[2] ?? '';
  if (!SCOPE_RESOURCES.includes(resource) || perm === '') return null;
  return { resource, permissions: new Set((V1[perm] ?? perm).split('')) };
}

/** True when `granted` covers all of `requested` (resource and every permission letter). */
export function covers(granted: SmartScope, requested: SmartScope): boolean {
  if (granted.resource !== '*' && granted.resource !== requested.resource) return false;
  return [...requested.permissions].every((p) => granted.permissions.has(p));
}

/** Whether a set of scope strings allows `permission` (a v2 letter) on `resource`. */
export function allows(scopes: readonly string[], resource: string, permission: string): boolean {
  return scopes.some((s) => {
    const parsed = parseScope(s);
    return parsed !== null && covers(parsed, { resource, permissions: new Set([permission]) });
  });
}

/**
 * The scopes to put in a token: all granted scopes when none were asked for, else the requested
 * ones, or the requested scopes that are not granted (RFC 6749 invalid_scope).
 */
export function grantScopes(
  granted: readonly string[],
  requested: string | undefined,
): { scopes: string[] } | { refused: string[] } {
  if (requested === undefined || requested.trim() === '') return { scopes: [...granted] };
  const asked = [...new Set(requested.trim().split(/ +/))];
  const parsedGrants = granted.map(parseScope).filter((g): g is SmartScope => g !== null);
  const refused = asked.filter((scope) => {
    const parsed = parseScope(scope);
    return parsed === null || !parsedGrants.some((g) => covers(g, parsed));
  });
  return refused.length > 0 ? { refused } : { scopes: asked };
}
