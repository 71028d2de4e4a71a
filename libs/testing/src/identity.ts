import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { distDir } from './stack';

/**
 * Creates a person with a role at a site through the admin CLI (the vault service's own use case),
 * then signs in through the running vault service's real `POST /auth/login`.
 */
export async function createUser(options: {
  databaseUrl: string;
  vaultSchema: string;
  email: string;
  password: string;
  siteNumber: string;
  role?: 'admin' | 'member';
}): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [
        join(distDir(), 'tools', 'cli', 'src', 'main.js'),
        'user',
        'create',
        '--email',
        options.email,
        '--site',
        options.siteNumber,
        '--role',
        options.role ?? 'admin',
      ],
      {
        env: {
          PATH: process.env['PATH'] ?? '',
          DATABASE_URL: options.databaseUrl,
          VAULT_DATABASE_SCHEMA: options.vaultSchema,
        },
        timeout: 60000,
      },
      (error, _stdout, stderr) => (error ? reject(new Error(`user create failed: ${stderr}`)) : resolve()),
    );
    child.stdin?.end(`${options.password}\n`);
  });
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
