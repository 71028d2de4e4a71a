import { readFile } from 'node:fs/promises';
import nodeVault from 'node-vault';

export type VaultClient = nodeVault.client;

interface VaultAuth {
  auth?: { client_token?: string; lease_duration?: number; renewable?: boolean } | null;
}

export interface VaultClientSettings {
  VAULT_ADDR: string;
  VAULT_AUTH_METHOD: 'token' | 'approle' | 'kubernetes';
  VAULT_TOKEN?: string | undefined;
  VAULT_ROLE_ID?: string | undefined;
  VAULT_SECRET_ID?: string | undefined;
  VAULT_K8S_ROLE?: string | undefined;
  VAULT_K8S_TOKEN_PATH: string;
}

/** What the token keeper reports (never the token): renewals, fresh logins, and failures. */
export interface VaultSessionLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Renew when this fraction of the token's lease has passed. */
const RENEW_AT = 2 / 3;
/**
 * A renewal that grants less than this fraction of the login's lease is capped by the role's max
 * TTL: log in again at once, while the capped token still has a third of a lease to live, rather
 * than riding it to its last seconds (a late timer on a busy node would then meet a dead token).
 * Below 1 so a lease reported a second short is not taken for a cap.
 */
const SHORTENED_LEASE = 9 / 10;
/** After a 403, log in again at most this often (a policy denial is not a dead token). */
const RELOGIN_ON_403_INTERVAL_MS = 10000;
const MAX_RETRY_DELAY_MS = 30000;
/** How long a call that met a 403 waits for the fresh login before it fails. */
const FORBIDDEN_RELOGIN_WAIT_MS = 5000;

function statusOf(error: unknown): number | undefined {
  return (error as { response?: { statusCode?: number } }).response?.statusCode;
}

/**
 * Keeps a Vault token alive for the life of the process: renews it (renew-self) at two thirds of
 * its lease, logs in again (AppRole, or Kubernetes re-reading the service-account token file,
 * which the kubelet rotates) when the token is not renewable, when renewals come back shortened
 * by the role's max TTL, when a renewal fails, or when Vault answers 403 (a revoked or expired
 * token). Failed logins are retried with backoff for ever; meanwhile readiness is down because
 * `lookup-self` fails. The token lives only in the client; nothing here logs it.
 */
class VaultTokenKeeper {
  private timer: NodeJS.Timeout | undefined;
  private loginLease = 0;
  /** The current token's lease and when it ends (0: a token without expiry). For the metrics. */
  leaseSeconds = 0;
  expiresAtMs = 0;
  private lastLoginAt = 0;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly client: VaultClient,
    private readonly settings: VaultClientSettings,
    private readonly log: VaultSessionLog | undefined,
  ) {}

  private get canLogIn(): boolean {
    return this.settings.VAULT_AUTH_METHOD !== 'token';
  }

  /** First login: errors propagate (start-up retries them). */
  async start(): Promise<void> {
    await this.login();
    this.installRetryOn403();
  }

  private async login(): Promise<void> {
    let auth: VaultAuth['auth'];
    switch (this.settings.VAULT_AUTH_METHOD) {
      case 'token': {
        this.client.token = this.settings.VAULT_TOKEN ?? '';
        const self = (await this.client.tokenLookupSelf()) as {
          data?: { ttl?: number; renewable?: boolean };
        };
        auth = { lease_duration: self.data?.ttl ?? 0, renewable: self.data?.renewable ?? false };
        break;
      }
      case 'approle':
        auth = (
          (await this.client.approleLogin({
            role_id: this.settings.VAULT_ROLE_ID,
            secret_id: this.settings.VAULT_SECRET_ID,
          })) as VaultAuth
        ).auth;
        break;
      case 'kubernetes': {
        const jwt = (await readFile(this.settings.VAULT_K8S_TOKEN_PATH, 'utf8')).trim();
        auth = ((await this.client.kubernetesLogin({ role: this.settings.VAULT_K8S_ROLE, jwt })) as VaultAuth)
          .auth;
        break;
      }
    }
    if (auth?.client_token) this.client.token = auth.client_token;
    this.lastLoginAt = Date.now();
    this.loginLease = auth?.lease_duration ?? 0;
    this.schedule(this.loginLease, auth?.renewable ?? false);
  }

  private schedule(leaseSeconds: number, renewable: boolean): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.leaseSeconds = Math.max(0, leaseSeconds);
    this.expiresAtMs = leaseSeconds > 0 ? Date.now() + leaseSeconds * 1000 : 0;
    if (leaseSeconds <= 0) return; // a token without expiry (root/periodic-less dev token)
    const delayMs = Math.max(1000, leaseSeconds * RENEW_AT * 1000);
    this.timer = setTimeout(() => void this.refresh(leaseSeconds, renewable), delayMs);
    this.timer.unref();
  }

  private async refresh(leaseSeconds: number, renewable: boolean): Promise<void> {
    const shortened = leaseSeconds < this.loginLease * SHORTENED_LEASE;
    if (renewable && !(shortened && this.canLogIn)) {
      try {
        const renewed = (await this.client.tokenRenewSelf({})) as VaultAuth;
        const lease = renewed.auth?.lease_duration ?? 0;
        this.log?.info({ dependency: 'vault', leaseSeconds: lease }, 'vault token renewed');
        if (lease > 0 && !(lease < this.loginLease * SHORTENED_LEASE && this.canLogIn)) {
          this.schedule(lease, renewed.auth?.renewable ?? false);
          return;
        }
        if (!this.canLogIn) {
          this.schedule(lease, renewed.auth?.renewable ?? false);
          return;
        }
      } catch (error) {
        this.log?.warn({ dependency: 'vault', status: statusOf(error) }, 'vault token renewal failed');
        if (!this.canLogIn) return;
      }
    } else if (!this.canLogIn) {
      return;
    }
    await this.relogin('lease-ending');
  }

  /** One login at a time; on failure keep retrying with backoff (readiness shows Vault down meanwhile). */
  private relogin(reason: string): Promise<void> {
    this.inFlight ??= (async () => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          await this.login();
          this.log?.info({ dependency: 'vault', reason }, 'logged in to vault again');
          return;
        } catch (error) {
          const delay = Math.min(1000 * 2 ** attempt, MAX_RETRY_DELAY_MS);
          this.log?.warn(
            { dependency: 'vault', reason, status: statusOf(error), retryInMs: delay },
            'vault login failed; retrying',
          );
          await new Promise((resolve) => setTimeout(resolve, delay).unref());
        }
      }
    })().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /**
   * Every node-vault call goes through `client.request`: a 403 (expired or revoked token) triggers
   * one fresh login and one retry of the call, at most once per RELOGIN_ON_403_INTERVAL_MS.
   */
  private installRetryOn403(): void {
    if (!this.canLogIn) return;
    const original = this.client.request.bind(this.client) as (options: RequestShape) => Promise<unknown>;
    (this.client as unknown as { request: (options?: RequestShape) => Promise<unknown> }).request = async (
      options: RequestShape = {},
    ) => {
      const retryable = { ...options, headers: { ...(options.headers ?? {}) } };
      try {
        return await original(options);
      } catch (error) {
        const isLogin = typeof options.path === 'string' && options.path.endsWith('/login');
        if (statusOf(error) !== 403 || isLogin) throw error;
        if (Date.now() - this.lastLoginAt < RELOGIN_ON_403_INTERVAL_MS && !this.inFlight) throw error;
        let waited: NodeJS.Timeout | undefined;
        await Promise.race([
          this.relogin('forbidden'),
          new Promise((resolve) => {
            waited = setTimeout(resolve, FORBIDDEN_RELOGIN_WAIT_MS);
          }),
        ]);
        clearTimeout(waited);
        delete retryable.headers['X-Vault-Token'];
        return original(retryable);
      }
    };
  }
}

interface RequestShape {
  path?: string;
  headers?: Record<string, string>;
  [option: string]: unknown;
}

/**
 * A node-vault client logged in with the configured method: a token (local tooling), AppRole
 * (local services) or Kubernetes service-account auth (in the cluster), whose token is then kept
 * alive (see VaultTokenKeeper). The token is kept in the client only; it is never logged.
 */
export async function createVaultClient(
  settings: VaultClientSettings,
  log?: VaultSessionLog,
): Promise<VaultClient> {
  const client = nodeVault({
    apiVersion: 'v1',
    endpoint: settings.VAULT_ADDR,
    requestOptions: { timeout: 5000 },
  });
  const keeper = new VaultTokenKeeper(client, settings, log);
  await keeper.start();
  keepers.set(client, keeper);
  return client;
}

const keepers = new WeakMap<VaultClient, VaultTokenKeeper>();

/**
 * The client's token lease as the metrics show it (`vault_token_lease_seconds`,
 * `vault_token_expires_in_seconds`); undefined for a token without expiry. The chart's
 * CloudConnectVaultTokenExpiring alert fires when renewals and logins have both been failing.
 */
export function vaultTokenLease(
  client: VaultClient,
): { leaseSeconds: number; expiresInSeconds: number } | undefined {
  const keeper = keepers.get(client);
  if (!keeper || keeper.expiresAtMs === 0) return undefined;
  return { leaseSeconds: keeper.leaseSeconds, expiresInSeconds: (keeper.expiresAtMs - Date.now()) / 1000 };
}

/** Ready = Vault answers, is initialised, unsealed and active, and our token is still accepted. */
export async function vaultIsReady(client: VaultClient): Promise<boolean> {
  try {
    await client.health();
    await client.tokenLookupSelf();
    return true;
  } catch {
    return false;
  }
}
