/* eslint-disable @typescript-eslint/no-explicit-any -- CLI answers are JSON */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUser, hasAuthenticator, totpCodeFor } from './identity';
import { grantRole, TEST_OPERATOR_TOKEN } from './operator';
import { distDir } from './stack';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json: Record<string, any>;
}

/** Commands that need the operator credential rather than a site admin's session. */
const OPERATOR_COMMANDS = new Set(['site create', 'user create', 'user grant']);
/** Commands that need no credential at all. */
const OPEN_COMMANDS = new Set(['login', 'logout', 'whoami', 'stack', 'notifications']);
/** Some actions need a sign-in within the last 5 minutes: sign in again after 4. */
const SESSION_REUSE_MS = 4 * 60 * 1000;

/**
 * The admin CLI as a child process, the way a person uses it: its own config directory (the
 * credentials file), the operator credential stored with `login --operator` for operator commands,
 * and for every other command a signed-in site admin of the site it names (a test admin created
 * through the operator API the first time, then `login` with the password piped on stdin).
 */
export class TestCli {
  readonly configHome = mkdtempSync(join(tmpdir(), 'cc-cli-'));
  private operatorStored = false;
  private readonly adminEmail = `cli-admin-${randomBytes(4).toString('hex')}@test.invalid`;
  private readonly adminPassword = `pw-${randomBytes(12).toString('hex')}`;
  private readonly adminSites = new Set<string>();
  private signedInSites = new Set<string>();
  private signedInAt = 0;

  constructor(
    private readonly vaultUrl: string,
    readonly env: Record<string, string> = {},
  ) {}

  /** Runs `cloud-connect <args>` as is (no sign-in first). */
  raw(args: string[], stdin = '', env: Record<string, string> = {}): Promise<CliRun> {
    return new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        [join(distDir(), 'tools', 'cli', 'src', 'main.js'), ...args],
        {
          env: {
            PATH: process.env['PATH'] ?? '',
            XDG_CONFIG_HOME: this.configHome,
            CC_VAULT_SERVICE_URL: this.vaultUrl,
            ...this.env,
            ...env,
          },
          timeout: 90000,
        },
        (error, stdout, stderr) => {
          let json: Record<string, any> = {};
          try {
            json = JSON.parse(stdout) as Record<string, any>;
          } catch {
            json = {};
          }
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr, json });
        },
      );
      child.stdin?.end(stdin);
    });
  }

  /** Stores the test operator credential (`login --operator`, token piped on stdin). */
  async operator(): Promise<void> {
    if (this.operatorStored) return;
    const stored = await this.raw(['login', '--operator'], `${TEST_OPERATOR_TOKEN}\n`);
    if (stored.code !== 0) throw new Error(`login --operator failed: ${stored.stderr}`);
    this.operatorStored = true;
  }

  /** Signs in (`login`) as the test admin, who administers `site` (and the sites before it). */
  async adminOf(site: string): Promise<void> {
    if (!this.adminSites.has(site)) {
      if (this.adminSites.size === 0)
        await createUser({
          vaultUrl: this.vaultUrl,
          email: this.adminEmail,
          password: this.adminPassword,
          siteNumber: site,
        });
      else await grantRole(this.vaultUrl, this.adminEmail, site);
      this.adminSites.add(site);
    }
    if (this.signedInSites.has(site) && Date.now() - this.signedInAt < SESSION_REUSE_MS) return;
    const login = await this.raw(
      ['login', '--email', this.adminEmail, ...(await TestCli.codeArgs(this.adminEmail))],
      `${this.adminPassword}\n`,
    );
    if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
    this.signedInSites = new Set(this.adminSites);
    this.signedInAt = Date.now();
  }

  /** `--code <next code>` when the person set up an authenticator app in this test process. */
  static async codeArgs(email: string): Promise<string[]> {
    return hasAuthenticator(email) ? ['--code', await totpCodeFor(email)] : [];
  }

  /** Runs `cloud-connect <args>` with the credential the command needs. */
  async run(args: string[], stdin = ''): Promise<CliRun> {
    const command = args.slice(0, 2).join(' ');
    if (OPERATOR_COMMANDS.has(command)) await this.operator();
    else if (!OPEN_COMMANDS.has(args[0] ?? '')) {
      const at = args.indexOf('--site');
      const site = at >= 0 ? args[at + 1] : undefined;
      if (site && /^[1-9][0-9]{0,9}$/.test(site)) await this.adminOf(site);
    }
    return this.raw(args, stdin);
  }
}
