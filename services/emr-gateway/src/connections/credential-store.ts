import type { VaultClient } from '@cloud-connect/service-kit';
import { emrCredentials, type EmrCredentials } from '../adapters/emr-adapter';

/**
 * EMR credentials in Vault KV v2 at `secret/emr-connections/<site>` (policy
 * deploy/vault/policies/emr-gateway.hcl). The only place they are kept.
 */
export class EmrCredentialStore {
  constructor(private readonly vault: VaultClient) {}

  private static path(kind: 'data' | 'metadata', siteNumber: string): string {
    if (!/^[1-9][0-9]{0,9}$/.test(siteNumber)) throw new Error('invalid site number');
    return `secret/${kind}/emr-connections/${siteNumber}`;
  }

  async save(siteNumber: string, credentials: EmrCredentials): Promise<number> {
    const result = (await this.vault.write(EmrCredentialStore.path('data', siteNumber), {
      data: credentials,
    })) as { data?: { version?: number } };
    return result.data?.version ?? 0;
  }

  async load(siteNumber: string): Promise<EmrCredentials | null> {
    try {
      const result = (await this.vault.read(EmrCredentialStore.path('data', siteNumber))) as {
        data?: { data?: unknown };
      };
      return emrCredentials.parse(result.data?.data);
    } catch (error) {
      if ((error as { response?: { statusCode?: number } }).response?.statusCode === 404) return null;
      throw error;
    }
  }

  async remove(siteNumber: string): Promise<void> {
    try {
      await this.vault.delete(EmrCredentialStore.path('metadata', siteNumber));
    } catch (error) {
      if ((error as { response?: { statusCode?: number } }).response?.statusCode !== 404) throw error;
    }
  }
}
