import { Global, Module } from '@nestjs/common';
import { ServiceTokenIssuer } from '@cloud-connect/auth';
import { dataKeyPolicyOf, VaultPhiCipher } from '@cloud-connect/phi-client';
import { SERVICE_CONFIG, VAULT_CLIENT, type VaultClient } from '@cloud-connect/service-kit';
import { SERVICE_NAME, type IntakeConfig } from '../config';
import { PHI_CIPHER } from './phi-cipher';
import { SERVICE_KEYS, ServiceKeys } from './service-keys';

/**
 * The PHI cipher of this service: the vault service's envelope encryption under each site's SEK
 * (there is no local key and no development fallback), called with a service token of
 * referral-intake. And the service's own key for its service secrets, kept in Vault KV.
 */
@Global()
@Module({
  providers: [
    {
      provide: PHI_CIPHER,
      inject: [SERVICE_CONFIG],
      useFactory: (config: IntakeConfig) =>
        new VaultPhiCipher({
          baseUrl: config.VAULT_SERVICE_URL,
          tokens: new ServiceTokenIssuer(SERVICE_NAME, config),
          timeoutMs: config.PHI_TIMEOUT_MS,
          dataKeys: dataKeyPolicyOf(config),
        }),
    },
    {
      provide: SERVICE_KEYS,
      inject: [VAULT_CLIENT],
      useFactory: (vault: VaultClient | null) => {
        if (!vault) throw new Error('referral-intake needs Vault for its service keys');
        return new ServiceKeys(vault);
      },
    },
  ],
  exports: [PHI_CIPHER, SERVICE_KEYS],
})
export class CryptoModule {}
