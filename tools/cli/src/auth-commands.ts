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
  code?: string;
}

interface Issued {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
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
  const signIn = async (code?: string): Promise<Issued> => {
    try {
      const body = { email, password, ...(code ? { code } : {}) };
      return (await api('vault', 'none', 'POST', '/auth/login', body, vaultUrl)).body as Issued;
    } catch (error) {
      if (error instanceof CliError && /^invalid[-_]credentials$/.test(error.code))
        throw new CliError('invalid-credentials', 'login refused: e-mail or password is incorrect');
      if (error instanceof CliError && error.code === 'invalid-code')
        throw new CliError('invalid-code', 'login refused: the code is not valid or was already used');
      throw error;
    }
  };
  let issued: Issued;
  try {
    issued = await signIn(o.code);
  } catch (error) {
    // Two-step sign-in: the password was right, now the authenticator app's code.
    if (!(error instanceof CliError && error.code === 'code-required')) throw error;
    issued = await signIn(await readSecret('Authenticator code (or a recovery code): '));
  }
  const expiresAt = new Date(Date.now() + issued.expires_in * 1000).toISOString();
  writeCredentials({
    ...readCredentials(),
    admin: {
      vaultUrl,
      email,
      accessToken: issued.access_token,
      expiresAt,
      ...(issued.refresh_token ? { refreshToken: issued.refresh_token } : {}),
    },
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
    .option(
      '--code <code>',
      'the 6-digit code of your authenticator app (or a recovery code); prompted, or read from the next line of stdin, when needed',
    )
    .action(async (o: LoginOptions) => (o.operator ? loginOperator(o) : loginAdmin(o)));

  program
    .command('logout')
    .description(
      'sign out: end this session at the vault service and forget it (and, with --operator, the operator credential)',
    )
    .option('--operator', 'also forget the operator credential')
    .option('--everywhere', 'end every session of your account (other computers and browsers too)')
    .action(async (o: { operator?: boolean; everywhere?: boolean }) => {
      const stored = readCredentials();
      let revoked: number | null = null;
      if (stored.admin) {
        const path = o.everywhere ? '/auth/logout-everywhere' : '/auth/logout';
        try {
          const answer = await api('vault', 'admin', 'POST', path, {}, stored.admin.vaultUrl);
          revoked = o.everywhere ? (answer.body as { revoked: number }).revoked : 1;
        } catch (error) {
          // An expired or already-ended session is signed out anyway; --everywhere must not fail silently.
          if (o.everywhere) throw error;
        }
      }
      writeCredentials(o.operator ? {} : { ...(stored.operator ? { operator: stored.operator } : {}) });
      printJson({
        signedOut: true,
        sessionsEnded: revoked,
        operatorCredentialKept: !o.operator && stored.operator !== undefined,
      });
    });

  program
    .command('sessions')
    .description('your open sessions (where and when you signed in); `--end <id>` ends one')
    .option('--end <id>', 'end this session')
    .action(async (o: { end?: string }) => {
      if (o.end) {
        await api('vault', 'admin', 'DELETE', `/auth/sessions/${encodeURIComponent(o.end)}`);
        printJson({ ended: o.end });
        return;
      }
      printJson((await api('vault', 'admin', 'GET', '/auth/sessions')).body);
    });

  program
    .command('mfa')
    .description(
      'two-step sign-in: `mfa` shows its state; `mfa setup` sets up an authenticator app (needs a sign-in within 5 minutes)',
    )
    .argument('[action]', 'setup')
    .option('--code <code>', 'with setup: the first code the app shows (prompted when missing)')
    .action(async (action: string | undefined, o: { code?: string }) => {
      if (action === undefined) {
        printJson((await api('vault', 'admin', 'GET', '/auth/mfa')).body);
        return;
      }
      if (action !== 'setup') throw new CliError('invalid-action', 'mfa: the action is `setup`', 2);
      const begun = (await api('vault', 'admin', 'POST', '/auth/mfa/totp', {})).body as {
        otpauthUri: string;
        secret: string;
      };
      process.stderr.write(
        `Add this account to your authenticator app (shown once):\n  ${begun.otpauthUri}\n  key: ${begun.secret}\n`,
      );
      const code = o.code ?? (await readSecret('First code from the app: '));
      const confirmed = (await api('vault', 'admin', 'POST', '/auth/mfa/totp/confirm', { code })).body;
      printJson(confirmed);
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
