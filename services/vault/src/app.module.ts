import { type DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@cloud-connect/auth';
import { Topics } from '@cloud-connect/contracts';
import { serviceCore, type ServiceContext } from '@cloud-connect/service-kit';
import { SERVICE_NAME, type VaultConfig } from './config';
import { VAULT_ENTITIES, VAULT_MIGRATIONS } from './database';
import { AccountModule } from './account/account.module';
import { AuditModule } from './audit/audit.module';
import { IdentityModule } from './identity/identity.module';
import { PhiModule } from './phi/phi.module';
import { SekModule } from './sek/sek.module';
import { SitesModule } from './sites/sites.module';
import { OperatorModule } from './operator/operator.module';

@Module({})
export class AppModule {
  static register(context: ServiceContext<VaultConfig>): DynamicModule {
    const { config } = context;
    return {
      module: AppModule,
      imports: [
        serviceCore(SERVICE_NAME, context, {
          entities: VAULT_ENTITIES,
          migrations: VAULT_MIGRATIONS,
          topics: [Topics.siteRegistered, Topics.auditRecorded, Topics.notificationRequested],
          // The audit writer only appends: its role gets no UPDATE/DELETE/TRUNCATE on the trail.
          appendOnlyTables: ['audit_entries'],
          vault: config,
        }),
        AuthModule.forRoot({ serviceName: SERVICE_NAME, serviceKeys: config }),
        IdentityModule,
        SitesModule,
        SekModule,
        AuditModule,
        PhiModule,
        AccountModule.register({
          consoleUrl: config.CONSOLE_URL,
          sealingSecret: config.SERVICE_AUTH_SECRET,
        }),
        OperatorModule,
      ],
    };
  }
}
