import { createHash } from 'node:crypto';

/** The operator credential every test vault service accepts (test value only). */
export const TEST_OPERATOR_TOKEN = 'ccop_test-operator-token-0123456789abcdef0123456789abcdef';

/** What a vault service is configured with: only the SHA-256 of the token, under the name `test`. */
export const TEST_OPERATOR_TOKENS_SHA256 = `test:${createHash('sha256').update(TEST_OPERATOR_TOKEN).digest('hex')}`;

/** One call to a running vault service's operator API with the test operator credential. */
export async function operatorCall(
  vaultUrl: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${vaultUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TEST_OPERATOR_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60000),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = {};
  }
  return { status: response.status, json };
}

/** Registers a site through the operator API; `exists` when it is already registered. */
export async function registerSite(
  vaultUrl: string,
  site: {
    siteNumber: string;
    name?: string;
    adminEmail?: string;
    clinicalAdminEmail?: string | null;
    locale?: 'en' | 'fr';
    timezone?: string;
  },
): Promise<'created' | 'exists'> {
  const { status, json } = await operatorCall(vaultUrl, 'POST', '/operator/sites', {
    name: `Test site ${site.siteNumber}`,
    adminEmail: `creator-${site.siteNumber}@test.invalid`,
    ...site,
  });
  if (status === 201) return 'created';
  if (status === 409) return 'exists';
  throw new Error(`registering site ${site.siteNumber} failed with ${status}: ${JSON.stringify(json)}`);
}

/** Gives an existing person a role at a site through the operator API. */
export async function grantRole(
  vaultUrl: string,
  email: string,
  siteNumber: string,
  role: 'admin' | 'member' = 'admin',
): Promise<void> {
  const { status, json } = await operatorCall(vaultUrl, 'POST', `/operator/sites/${siteNumber}/grants`, {
    email,
    role,
  });
  if (status !== 200)
    throw new Error(`grant at site ${siteNumber} failed with ${status}: ${JSON.stringify(json)}`);
}
