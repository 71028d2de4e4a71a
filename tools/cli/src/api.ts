import { readProblem } from '@cloud-connect/errors';
import { readCredentials, writeCredentials } from './credentials';
import { CliError } from './output';

/**
 * The services' admin HTTP APIs: the only way this CLI changes anything. Each call carries one
 * credential from the credentials file: a site admin's session (`cloud-connect login`) or an
 * operator credential (`cloud-connect login --operator`). Tokens are never printed.
 */
export type ServiceName = 'vault' | 'referral-intake' | 'emr-gateway' | 'scheduler';

const SERVICES: Record<ServiceName, { env: string; port: number }> = {
  vault: { env: 'CC_VAULT_SERVICE_URL', port: 3003 },
  'referral-intake': { env: 'REFERRAL_INTAKE_URL', port: 3001 },
  'emr-gateway': { env: 'EMR_GATEWAY_URL', port: 3002 },
  scheduler: { env: 'SCHEDULER_URL', port: 3004 },
};

/** A service's base URL: its environment variable, else (the vault service) where you logged in, else local. */
export function serviceUrl(service: ServiceName, stored?: string): string {
  const { env, port } = SERVICES[service];
  return (process.env[env] ?? stored ?? `http://127.0.0.1:${port}`).replace(/\/$/, '');
}

export type Credential = 'admin' | 'operator' | 'none';

export interface ApiAnswer {
  status: number;
  body: unknown;
  text: string;
}

const LOGIN_AGAIN = 'run `cloud-connect login` to sign in again';

/** Renew the access token this long before it expires (it lasts 5 minutes). */
const RENEW_WITHIN_MS = 60_000;

/**
 * A new access token for the stored session, from its refresh token (the session must still be
 * open: sign-out, "sign out everywhere" or a password change end it).
 */
async function renewed(
  admin: NonNullable<ReturnType<typeof readCredentials>['admin']>,
): Promise<string | null> {
  if (!admin.refreshToken) return null;
  try {
    const response = await fetch(`${admin.vaultUrl}/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: admin.refreshToken }),
      signal: AbortSignal.timeout(30000),
    });
    if (!response.ok) return null;
    const issued = (await response.json()) as { access_token: string; expires_in: number };
    const expiresAt = new Date(Date.now() + issued.expires_in * 1000).toISOString();
    const stored = readCredentials();
    writeCredentials({ ...stored, admin: { ...admin, accessToken: issued.access_token, expiresAt } });
    return issued.access_token;
  } catch {
    return null;
  }
}

async function tokenFor(credential: Credential): Promise<{ token: string | null; vaultUrl?: string }> {
  if (credential === 'none') return { token: null };
  const stored = readCredentials();
  if (credential === 'operator') {
    if (!stored.operator)
      throw new CliError(
        'no-operator-credential',
        'this is an operator action: store the operator credential first with `cloud-connect login --operator`',
      );
    return { token: stored.operator.token, vaultUrl: stored.operator.vaultUrl };
  }
  if (!stored.admin) throw new CliError('not-signed-in', 'not signed in: run `cloud-connect login` first');
  if (Date.parse(stored.admin.expiresAt) - RENEW_WITHIN_MS <= Date.now()) {
    const token = await renewed(stored.admin);
    if (token) return { token, vaultUrl: stored.admin.vaultUrl };
  }
  if (Date.parse(stored.admin.expiresAt) <= Date.now())
    throw new CliError(
      'session-expired',
      `your session (${stored.admin.email}) expired at ${stored.admin.expiresAt}: ${LOGIN_AGAIN}`,
    );
  return { token: stored.admin.accessToken, vaultUrl: stored.admin.vaultUrl };
}

function refusal(
  service: ServiceName,
  credential: Credential,
  answer: ApiAnswer,
  challenge: string,
): CliError {
  // RFC 9457 problem+json (and the older shapes some routes still answer with).
  const problem = readProblem(answer.status, answer.body);
  const { code, details } = problem;
  const message =
    problem.detail === `HTTP ${answer.status}` ? `${service} answered ${answer.status}` : problem.detail;
  if (answer.status === 401 && credential === 'admin') {
    if (challenge.includes('insufficient_user_authentication')) {
      const maxAge = /max_age=(\d+)/.exec(challenge)?.[1];
      const within = maxAge ? ` within the last ${Math.round(Number(maxAge) / 60)} minutes` : '';
      return new CliError('fresh-sign-in-required', `this action needs a sign-in${within}: ${LOGIN_AGAIN}`);
    }
    return new CliError('session-expired', `your session is no longer valid (${message}): ${LOGIN_AGAIN}`);
  }
  if (answer.status === 403 && credential === 'admin' && code === 'mfa-required')
    return new CliError(
      code,
      `${message} (\`cloud-connect mfa setup\`, then \`cloud-connect login\` with the code)`,
    );
  if (answer.status === 401 && credential === 'operator')
    return new CliError('operator-credential-refused', `the operator credential was refused: ${message}`);
  if (answer.status === 403 && credential === 'admin')
    return new CliError(
      code,
      `${message} (if you were given this site since you signed in, ${LOGIN_AGAIN})`,
      1,
      details,
    );
  return new CliError(code, message, answer.status === 400 ? 2 : 1, details);
}

/** One call to a service's API; a non-2xx answer becomes a CliError with the service's own words. */
export async function api(
  service: ServiceName,
  credential: Credential,
  method: string,
  path: string,
  json?: unknown,
  baseUrl?: string,
): Promise<ApiAnswer> {
  const { token, vaultUrl } = await tokenFor(credential);
  const base = baseUrl ?? serviceUrl(service, service === 'vault' ? vaultUrl : undefined);
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      signal: AbortSignal.timeout(60000),
    });
  } catch {
    throw new CliError('unreachable', `the ${service} service is not reachable at ${base}`);
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? (JSON.parse(text) as unknown) : {};
  } catch {
    body = null;
  }
  const answer = { status: response.status, body, text };
  if (response.status < 200 || response.status > 299) {
    const error = refusal(service, credential, answer, response.headers.get('www-authenticate') ?? '');
    const retryAfter = response.headers.get('retry-after');
    if (retryAfter) error.message = `${error.message} (retry after ${retryAfter}s)`;
    throw error;
  }
  return answer;
}

/** The JSON body of a site admin's call. */
export async function adminCall(
  service: ServiceName,
  method: string,
  path: string,
  json?: unknown,
): Promise<unknown> {
  return (await api(service, 'admin', method, path, json)).body;
}

export function siteNumber(site: string): string {
  if (!/^[1-9][0-9]{0,9}$/.test(site))
    throw new CliError('invalid-site', 'site: a site number is 1 to 10 digits, not starting with 0', 2);
  return site;
}
