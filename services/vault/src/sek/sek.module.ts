import { AUTH_DENIAL_SINK } from '@cloud-connect/auth';
import { Global, Module } from '@nestjs/common';
import { MessagingService, VAULT_CLIENT, type VaultClient } from '@cloud-connect/service-kit';
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
      inject: [DataSource, MessagingService, SekVaultStore],
      useFactory: (ds: DataSource, messaging: MessagingService, store: SekVaultStore) =>
        new SekCustody(ds, messaging.outbox, messaging.registry, store),
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
