import { ADMIN_KEY_RESOLVER } from '@cloud-connect/auth';
import { MessagingService, VAULT_CLIENT, type VaultClient } from '@cloud-connect/service-kit';
import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { IdentityController } from './identity.controller';
import { RegisterUser } from './register-user';
import { SignIn } from './sign-in';
import { AdminSigningKeys } from './signing-keys';

/** People, their per-site roles, sign-in, and the keys of admin tokens (global: AuthGuard needs them). */
@Global()
@Module({
  controllers: [IdentityController],
  providers: [
    {
      provide: AdminSigningKeys,
      inject: [VAULT_CLIENT],
      useFactory: (vault: VaultClient | null) => {
        if (!vault) throw new Error('the identity module needs the Vault client');
        return AdminSigningKeys.load(vault);
      },
    },
    { provide: ADMIN_KEY_RESOLVER, useExisting: AdminSigningKeys },
    {
      provide: SignIn,
      inject: [DataSource, AdminSigningKeys],
      useFactory: (ds: DataSource, keys: AdminSigningKeys) => new SignIn(ds, keys),
    },
    {
      provide: RegisterUser,
      inject: [DataSource, MessagingService],
      useFactory: (ds: DataSource, messaging: MessagingService) =>
        new RegisterUser(ds, messaging.outbox, messaging.registry),
    },
  ],
  exports: [ADMIN_KEY_RESOLVER, AdminSigningKeys, RegisterUser],
})
export class IdentityModule {}
