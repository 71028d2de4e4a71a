import { ADMIN_KEY_RESOLVER, ADMIN_SESSION_CHECK, AdminTokenVerifier } from '@cloud-connect/auth';
import {
  LOGGER,
  MessagingService,
  registeredModule,
  VAULT_CLIENT,
  type VaultClient,
} from '@cloud-connect/service-kit';
import type { Logger } from '@cloud-connect/observability';
import { DataSource } from 'typeorm';
import { AccountSecurity } from './account-security';
import { IdentityController } from './identity.controller';
import { RegisterUser } from './register-user';
import { AdminSessions } from './sessions';
import { SignIn } from './sign-in';
import { AdminSigningKeys, type SigningKeySettings } from './signing-keys';
import { TotpFactor } from './totp';

function vaultOf(vault: VaultClient | null): VaultClient {
  if (!vault) throw new Error('the identity module needs the Vault client');
  return vault;
}

/**
 * People, their per-site roles, sign-in with its second factor, sessions, and the keys of admin
 * tokens (global: AuthGuard needs the keys and the session check).
 */
export const IdentityModule = registeredModule('IdentityModule', (settings: SigningKeySettings) => ({
  global: true,
  controllers: [IdentityController],
  providers: [
    {
      provide: AdminSigningKeys,
      inject: [VAULT_CLIENT, LOGGER],
      useFactory: async (vault: VaultClient | null, logger: Logger) => {
        const keys = await AdminSigningKeys.load(vaultOf(vault), settings);
        keys.startSchedule((error) =>
          logger.warn({ error: error instanceof Error ? error.name : 'Error' }, 'signing key check failed'),
        );
        return keys;
      },
    },
    { provide: ADMIN_KEY_RESOLVER, useExisting: AdminSigningKeys },
    {
      provide: TotpFactor,
      inject: [DataSource, VAULT_CLIENT],
      useFactory: (ds: DataSource, vault: VaultClient | null) => new TotpFactor(ds, vaultOf(vault)),
    },
    {
      provide: SignIn,
      inject: [DataSource, AdminSigningKeys, TotpFactor],
      useFactory: (ds: DataSource, keys: AdminSigningKeys, totp: TotpFactor) => new SignIn(ds, keys, totp),
    },
    {
      provide: AdminSessions,
      inject: [DataSource, AdminTokenVerifier, SignIn, MessagingService],
      useFactory: (
        ds: DataSource,
        verifier: AdminTokenVerifier,
        signIn: SignIn,
        messaging: MessagingService,
      ) => new AdminSessions(ds, verifier, signIn, messaging.outbox, messaging.registry),
    },
    { provide: ADMIN_SESSION_CHECK, useExisting: AdminSessions },
    {
      provide: AccountSecurity,
      inject: [DataSource, SignIn, AdminSessions, TotpFactor],
      useFactory: (ds: DataSource, signIn: SignIn, sessions: AdminSessions, totp: TotpFactor) =>
        new AccountSecurity(ds, signIn, sessions, totp),
    },
    {
      provide: RegisterUser,
      inject: [DataSource, MessagingService],
      useFactory: (ds: DataSource, messaging: MessagingService) =>
        new RegisterUser(ds, messaging.outbox, messaging.registry),
    },
  ],
  exports: [ADMIN_KEY_RESOLVER, ADMIN_SESSION_CHECK, AdminSigningKeys, AdminSessions, RegisterUser],
}));
