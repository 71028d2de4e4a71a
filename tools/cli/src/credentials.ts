import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { CliError } from './output';

/**
 * Where the CLI keeps its credentials: `$XDG_CONFIG_HOME/cloud-connect/credentials.json` (default
 * `~/.config`), `~/Library/Application Support/cloud-connect` on macOS, `%APPDATA%\cloud-connect`
 * on Windows. The directory is 0700 and the file 0600: only its owner can read the tokens.
 */
export function configDir(): string {
  const xdg = process.env['XDG_CONFIG_HOME'];
  if (xdg && xdg.length > 0) return join(xdg, 'cloud-connect');
  if (process.platform === 'darwin')
    return join(homedir(), 'Library', 'Application Support', 'cloud-connect');
  if (process.platform === 'win32' && process.env['APPDATA'])
    return join(process.env['APPDATA'], 'cloud-connect');
  return join(homedir(), '.config', 'cloud-connect');
}

export function credentialsFile(): string {
  return join(configDir(), 'credentials.json');
}

const stored = z.object({
  /** A site admin's session: the vault service's access token and when it expires. */
  admin: z
    .object({
      vaultUrl: z.string(),
      email: z.string(),
      accessToken: z.string(),
      expiresAt: z.string(),
      /** The session's refresh token: a new access token when the current one runs out. */
      refreshToken: z.string().optional(),
    })
    .optional(),
  /** An operator credential (issued at install time), checked against the vault service. */
  operator: z.object({ vaultUrl: z.string(), name: z.string(), token: z.string() }).optional(),
});

export type StoredCredentials = z.infer<typeof stored>;

export function readCredentials(): StoredCredentials {
  const file = credentialsFile();
  if (!existsSync(file)) return {};
  try {
    return stored.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    throw new CliError(
      'bad-credentials-file',
      `${file} is not a credentials file of this CLI: run \`cloud-connect logout\`, then log in again`,
    );
  }
}

/** Writes the file with mode 0600 from its creation (temporary file, then an atomic rename). */
export function writeCredentials(credentials: StoredCredentials): void {
  const dir = configDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = credentialsFile();
  if (!credentials.admin && !credentials.operator) {
    rmSync(file, { force: true });
    return;
  }
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}
