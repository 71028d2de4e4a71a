import { type DynamicModule, Global, Module, type Provider } from '@nestjs/common';
import { createRemoteJWKSet } from 'jose';
import { AdminTokenVerifier, type AdminKeyResolver } from './admin-tokens';
import { AuthGuard } from './auth.guard';
import {
  loadServicePublicKeys,
  loadServiceSigningKey,
  type ServiceKeyConfig,
  ServiceTokenIssuer,
  ServiceTokenVerifier,
} from './service-tokens';

/** Provided by whoever knows the admin token keys: from a JWKS URL here, or by the vault service. */
export const ADMIN_KEY_RESOLVER = Symbol('ADMIN_KEY_RESOLVER');

export interface AuthModuleOptions {
  serviceName: string;
  /** This service's signing key and the other services' public keys (loaded at start-up). */
  serviceKeys: ServiceKeyConfig;
  /** The vault service's `/.well-known/jwks.json`. Leave out where ADMIN_KEY_RESOLVER is provided. */
  adminJwksUrl?: string | undefined;
}

@Global()
@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions): DynamicModule {
    // Read and checked now, so a missing or wrong key stops the start-up with a clear message.
    const signing = loadServiceSigningKey(options.serviceName, options.serviceKeys);
    const publicKeys = loadServicePublicKeys(options.serviceKeys);
    const providers: Provider[] = [
      { provide: ServiceTokenIssuer, useValue: new ServiceTokenIssuer(options.serviceName, signing) },
      { provide: ServiceTokenVerifier, useValue: new ServiceTokenVerifier(options.serviceName, publicKeys) },
      {
        provide: AdminTokenVerifier,
        inject: [ADMIN_KEY_RESOLVER],
        useFactory: (keys: AdminKeyResolver) => new AdminTokenVerifier(keys),
      },
      AuthGuard,
    ];
    if (options.adminJwksUrl) {
      // Read again every minute: a key the vault service dropped (past its rotation overlap) stops
      // verifying here within a minute. An unknown kid (a key the vault service has just rotated
      // in) is looked up at once, at most once a second, so new tokens are not refused meanwhile.
      const getKey = createRemoteJWKSet(new URL(options.adminJwksUrl), {
        cooldownDuration: 1000,
        cacheMaxAge: 60000,
      });
      providers.push({ provide: ADMIN_KEY_RESOLVER, useValue: { getKey } satisfies AdminKeyResolver });
    }
    return {
      module: AuthModule,
      providers,
      exports: [
        ServiceTokenIssuer,
        ServiceTokenVerifier,
        AdminTokenVerifier,
        AuthGuard,
        ...(options.adminJwksUrl ? [ADMIN_KEY_RESOLVER] : []),
      ],
    };
  }
}
