import { Module } from '@nestjs/common';
import { MessagingService } from '@cloud-connect/service-kit';
import { DataSource } from 'typeorm';
import { SekVaultStore } from '../sek/sek-vault-store';
import { PhiController } from './phi.controller';
import { PhiCrypto } from './phi-crypto';

@Module({
  controllers: [PhiController],
  providers: [
    {
      provide: PhiCrypto,
      inject: [SekVaultStore, DataSource, MessagingService],
      useFactory: (store: SekVaultStore, ds: DataSource, messaging: MessagingService) =>
        new PhiCrypto(store, ds, messaging.outbox, messaging.registry, {
          kekTtlMs: 60000,
          kekCacheSize: 256,
          currentVersionTtlMs: 5000,
        }),
    },
  ],
  exports: [PhiCrypto],
})
export class PhiModule {}
