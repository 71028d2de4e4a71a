import { readFile } from 'node:fs/promises';
import nodeVault from 'node-vault';

export type VaultClient = nodeVault.client;

interface VaultLogin {
  auth: { client_token: string };
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

/**
 * A node-vault client logged in with the configured method: a token (local tooling), AppRole
 * (local services) or Kubernetes service-account auth (in the cluster). The token is kept in the
 * client only; it is never logged.
 */
export async function createVaultClient(settings: VaultClientSettings): Promise<VaultClient> {
  const client = nodeVault({
    apiVersion: 'v1',
    endpoint: settings.VAULT_ADDR,
    requestOptions: { timeout: 5000 },
  });
  switch (settings.VAULT_AUTH_METHOD) {
    case 'token':
      client.token = settings.VAULT_TOKEN ?? '';
      break;
    case 'approle': {
      const login = (await client.approleLogin({
        role_id: settings.VAULT_ROLE_ID,
        secret_id: settings.VAULT_SECRET_ID,
      })) as VaultLogin;
      client.token = login.auth.client_token;
      break;
    }
    case 'kubernetes': {
      const jwt = (await readFile(settings.VAULT_K8S_TOKEN_PATH, 'utf8')).trim();
      const login = (await client.kubernetesLogin({ role: settings.VAULT_K8S_ROLE, jwt })) as VaultLogin;
      client.token = login.auth.client_token;
      break;
    }
  }
  return client;
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
