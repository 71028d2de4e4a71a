import { Secret, TOTP } from 'otpauth';
import { operatorCall } from './operator';

const TOTP_PERIOD_MS = 30_000;
/** Each test admin's authenticator app (base32 secret), by lower-case e-mail, in this test process. */
const authenticators = new Map<string, { totp: TOTP; lastStep: number; recovery: string[] }>();

/**
 * The next 6-digit code of `email`'s authenticator app (set up by createUser or enrolTotp). The
 * vault service accepts each time step once (and the steps either side of now), so successive
 * sign-ins use successive steps; when none is left, one of the person's recovery codes (each
 * works once) when `recovery` allows, else this waits for the next 30-second step.
 */
export async function totpCodeFor(email: string, recovery = false): Promise<string> {
  const app = authenticators.get(email.toLowerCase());
  if (!app) throw new Error(`no authenticator app was set up for ${email} in this test process`);
  for (let waited = 0; waited < 3; waited += 1) {
    const now = Date.now();
    const current = Math.floor(now / TOTP_PERIOD_MS);
    // The previous step stays valid until the current one ends: not in its last 1.5 s.
    const lowest = now % TOTP_PERIOD_MS > TOTP_PERIOD_MS - 1500 ? current : current - 1;
    const step = Math.max(lowest, app.lastStep + 1);
    if (step <= current + 1) {
      app.lastStep = step;
      return app.totp.generate({ timestamp: step * TOTP_PERIOD_MS });
    }
    const spare = recovery ? app.recovery.shift() : undefined;
    if (spare) return spare;
    await new Promise((resolve) => setTimeout(resolve, TOTP_PERIOD_MS - (now % TOTP_PERIOD_MS) + 50));
  }
  throw new Error('no TOTP time step left after waiting');
}

/** Whether createUser or enrolTotp set up an authenticator app for `email` in this process. */
export function hasAuthenticator(email: string): boolean {
  return authenticators.has(email.toLowerCase());
}

async function post(url: string, body: unknown, token?: string): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30000),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : {} };
}

/**
 * Sets up an authenticator app for the person holding `token` (a sign-in of the last 5 minutes)
 * over the real API: starts the set-up, confirms it with a first code. Returns the recovery codes.
 */
export async function enrolTotp(vaultServiceUrl: string, email: string, token: string): Promise<string[]> {
  const begun = await post(`${vaultServiceUrl}/auth/mfa/totp`, {}, token);
  if (begun.status !== 201)
    throw new Error(`TOTP set-up failed with ${begun.status}: ${JSON.stringify(begun.json)}`);
  const secret = (begun.json as { secret: string }).secret;
  const app = {
    totp: new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }),
    lastStep: 0,
    recovery: [] as string[],
  };
  authenticators.set(email.toLowerCase(), app);
  const confirmed = await post(
    `${vaultServiceUrl}/auth/mfa/totp/confirm`,
    { code: await totpCodeFor(email) },
    token,
  );
  if (confirmed.status !== 200)
    throw new Error(`TOTP confirmation failed with ${confirmed.status}: ${JSON.stringify(confirmed.json)}`);
  const codes = (confirmed.json as { recoveryCodes: string[] }).recoveryCodes;
  // Half are kept for sign-ins in quick succession (signIn), half left to the test.
  app.recovery = codes.slice(0, 5);
  return codes.slice(5);
}

/**
 * Creates a person with a role at a site through the running vault service's operator API (the
 * vault service's own use case), so they can sign in through its real `POST /auth/login`. Unless
 * `totp: false`, the person then sets up an authenticator app (as an admin must before viewing
 * the SEK or creating credentials); signIn and the CLI helper type its codes.
 */
export async function createUser(options: {
  vaultUrl: string;
  email: string;
  password: string;
  siteNumber: string;
  role?: 'admin' | 'member';
  totp?: boolean;
}): Promise<void> {
  const { status, json } = await operatorCall(
    options.vaultUrl,
    'POST',
    `/operator/sites/${options.siteNumber}/users`,
    {
      email: options.email,
      password: options.password,
      role: options.role ?? 'admin',
    },
  );
  if (status !== 201) throw new Error(`user create failed with ${status}: ${JSON.stringify(json)}`);
  if (options.totp === false) return;
  const token = await signIn(options.vaultUrl, options.email, options.password);
  await enrolTotp(options.vaultUrl, options.email, token);
}

/** Signs in over `POST /auth/login` (with the next code of the person's authenticator app, if any). */
export async function signIn(vaultServiceUrl: string, email: string, password: string): Promise<string> {
  const code = hasAuthenticator(email) ? await totpCodeFor(email, true) : undefined;
  const response = await fetch(`${vaultServiceUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, ...(code ? { code } : {}) }),
  });
  if (!response.ok) throw new Error(`sign-in failed with ${response.status}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** How long a sign-in is reused: admin tokens live 5 minutes, and so does a sign-in's step-up. */
const SESSION_REUSE_MS = 4 * 60 * 1000;

/**
 * A person's admin token for a suite that runs longer than a token lives: the sign-in of the
 * last 4 minutes is reused (each sign-in spends one of the authenticator app's 30-second steps),
 * an older one is replaced by a fresh sign-in.
 */
export function adminSession(
  vaultServiceUrl: string,
  email: string,
  password: string,
): () => Promise<string> {
  let cached: { token: string; at: number } | undefined;
  return async () => {
    if (!cached || Date.now() - cached.at > SESSION_REUSE_MS)
      cached = { token: await signIn(vaultServiceUrl, email, password), at: Date.now() };
    return cached.token;
  };
}
