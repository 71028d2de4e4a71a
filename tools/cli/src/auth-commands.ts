import type { Command } from 'commander';
import { api, serviceUrl } from './api';
import { credentialsFile, readCredentials, writeCredentials } from './credentials';
import { CliError, printJson } from './output';
import { ask, readSecret } from './secrets';

interface LoginOptions {
  email?: string;
  url?: string;
  passwordFile?: string;
  operator?: boolean;
  tokenFile?: string;
}

async function loginAdmin(o: LoginOptions): Promise<void> {
  const vaultUrl = (o.url ?? serviceUrl('vault')).replace(/\/$/, '');
  let email = o.email;
  if (!email) {
    if (!process.stdin.isTTY)
      throw new CliError('missing-email', 'login: give --email (standard input is not a terminal)', 2);
    email = await ask('E-mail: ');
  }
  const password = await readSecret('Password: ', o.passwordFile);
  let answer;
  try {
    answer = await api('vault', 'none', 'POST', '/auth/login', { email, password }, vaultUrl);
  } catch (error) {
    if (error instanceof CliError && error.code === 'invalid_credentials')
      throw new CliError('invalid-credentials', 'login refused: wrong e-mail or password');
    throw error;
  }
  const issued = answer.body as { access_token: string; expires_in: number };
  const expiresAt = new Date(Date.now() + issued.expires_in * 1000).toISOString();
  writeCredentials({
    ...readCredentials(),
    admin: { vaultUrl, email, accessToken: issued.access_token, expiresAt },
  });
  printJson({ signedIn: { email, vaultUrl, expiresAt, credentialsFile: credentialsFile() } });
}

async function loginOperator(o: LoginOptions): Promise<void> {
  const vaultUrl = (o.url ?? serviceUrl('vault')).replace(/\/$/, '');
  const token = await readSecret('Operator token: ', o.tokenFile);
  // Checked against the vault service before it is stored (a typo is caught now, not later).
  const previous = readCredentials();
  writeCredentials({ ...previous, operator: { vaultUrl, name: '', token } });
  try {
    const { body } = await api('vault', 'operator', 'GET', '/operator/whoami', undefined, vaultUrl);
    const name = (body as { operator: string }).operator;
    writeCredentials({ ...previous, operator: { vaultUrl, name, token } });
    printJson({ operator: { name, vaultUrl, credentialsFile: credentialsFile() } });
  } catch (error) {
    writeCredentials(previous);
    throw error;
  }
}

/** `login` (a site admin), `login --operator`, `logout`, `whoami`. */
export function registerAuthCommands(program: Command): void {
  program
    .command('login')
    .description(
      'sign in as a site admin (password prompted without echo, or piped on stdin, or --password-file); ' +
        'with --operator, store the operator credential instead',
    )
    .option('--email <email>', 'your e-mail (prompted on a terminal when missing)')
    .option('--url <url>', 'the vault service (default CC_VAULT_SERVICE_URL or http://127.0.0.1:3003)')
    .option('--password-file <path>', 'read the password from the first line of this file')
    .option('--operator', 'store an operator credential (for operator-only commands)')
    .option('--token-file <path>', 'with --operator: read the operator token from this file')
    .action(async (o: LoginOptions) => (o.operator ? loginOperator(o) : loginAdmin(o)));

  program
    .command('logout')
    .description('forget the stored session (and, with --operator, the operator credential)')
    .option('--operator', 'also forget the operator credential')
    .action((o: { operator?: boolean }) => {
      const stored = readCredentials();
      writeCredentials(o.operator ? {} : { ...(stored.operator ? { operator: stored.operator } : {}) });
      printJson({ signedOut: true, operatorCredentialKept: !o.operator && stored.operator !== undefined });
    });

  program
    .command('whoami')
    .description('who the stored credentials are (never the tokens)')
    .action(() => {
      const stored = readCredentials();
      const admin = stored.admin;
      printJson({
        admin: admin
          ? {
              email: admin.email,
              vaultUrl: admin.vaultUrl,
              expiresAt: admin.expiresAt,
              expired: Date.parse(admin.expiresAt) <= Date.now(),
            }
          : null,
        operator: stored.operator ? { name: stored.operator.name, vaultUrl: stored.operator.vaultUrl } : null,
        credentialsFile: credentialsFile(),
      });
    });
}
