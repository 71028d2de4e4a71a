import { Topics } from '@cloud-connect/contracts';
import { serviceAppModule, type ServiceContext } from '@cloud-connect/service-kit';
import { SERVICE_NAME, type VaultConfig } from './config';
import { VAULT_ENTITIES, VAULT_MIGRATIONS } from './database';
import { AccountModule } from './account/account.module';
import { AuditModule } from './audit/audit.module';
import { IdentityModule } from './identity/identity.module';
import { PhiModule } from './phi/phi.module';
import { SekModule } from './sek/sek.module';
import { SitesModule } from './sites/sites.module';
import { OperatorModule } from './operator/operator.module';

export const AppModule = serviceAppModule(SERVICE_NAME, (context: ServiceContext<VaultConfig>) => {
  const { config } = context;
  return {
    entities: VAULT_ENTITIES,
    migrations: VAULT_MIGRATIONS,
    topics: [Topics.siteRegistered, Topics.auditRecorded, Topics.notificationRequested],
    vault: config,
    adminKeys: 'own',
    modules: [
      IdentityModule.register({
        maxAgeSeconds: config.ADMIN_SIGNING_KEY_MAX_AGE_DAYS * 24 * 3600,
        overlapSeconds: config.ADMIN_SIGNING_KEY_OVERLAP_SECONDS,
        checkSeconds: config.ADMIN_SIGNING_KEY_CHECK_SECONDS,
      }),
      SitesModule,
      SekModule,
      AuditModule,
      PhiModule,
      AccountModule.register({ consoleUrl: config.CONSOLE_URL, sealingSecret: config.SERVICE_AUTH_SECRET }),
      OperatorModule,
    ],
  };
});
