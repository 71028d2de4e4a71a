import { AUTH_DENIAL_SINK } from '@cloud-connect/auth';
import { Global, Module } from '@nestjs/common';
import { MessagingService, SERVICE_CONFIG, VAULT_CLIENT, type VaultClient } from '@cloud-connect/service-kit';
import type { VaultConfig } from '../config';
import { DataSource } from 'typeorm';
import { SekController } from './sek.controller';
import { SekCustody } from './sek-custody';
import { SekDenialAuditor } from './sek-denials';
import { SekVaultStore } from './sek-vault-store';

/** SEK custody (global: the auth guard reports refused calls to its denial auditor). */
@Global()
@Module({
  controllers: [SekController],
  providers: [
    {
      provide: SekVaultStore,
      inject: [VAULT_CLIENT],
      useFactory: (vault: VaultClient | null) => {
        if (!vault) throw new Error('SEK custody needs the Vault client');
        return new SekVaultStore(vault);
      },
    },
    {
      provide: SekCustody,
      inject: [DataSource, MessagingService, SekVaultStore, SERVICE_CONFIG],
      useFactory: (ds: DataSource, messaging: MessagingService, store: SekVaultStore, config: VaultConfig) =>
        new SekCustody(ds, messaging.outbox, messaging.registry, store, config.SEK_RECOVERY_WINDOW_SECONDS),
    },
    {
      provide: AUTH_DENIAL_SINK,
      inject: [SekCustody],
      useFactory: (c: SekCustody) => new SekDenialAuditor(c),
    },
  ],
  exports: [SekCustody, SekVaultStore, AUTH_DENIAL_SINK],
})
export class SekModule {}
