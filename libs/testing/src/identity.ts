import { operatorCall } from './operator';

/**
 * Creates a person with a role at a site through the running vault service's operator API (the
 * vault service's own use case), so they can sign in through its real `POST /auth/login`.
 */
export async function createUser(options: {
  vaultUrl: string;
  email: string;
  password: string;
  siteNumber: string;
  role?: 'admin' | 'member';
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
}

export async function signIn(vaultServiceUrl: string, email: string, password: string): Promise<string> {
  const response = await fetch(`${vaultServiceUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (!response.ok) throw new Error(`sign-in failed with ${response.status}`);
  return ((await response.json()) as { access_token: string }).access_token;
}
