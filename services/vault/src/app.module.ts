import { type DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@cloud-connect/auth';
import { Topics } from '@cloud-connect/contracts';
import { CoreModule, type ServiceContext } from '@cloud-connect/service-kit';
import { SERVICE_NAME, type VaultConfig } from './config';
import { VAULT_ENTITIES, VAULT_MIGRATIONS } from './database';
import { AuditModule } from './audit/audit.module';
import { IdentityModule } from './identity/identity.module';
import { PhiModule } from './phi/phi.module';
import { SekModule } from './sek/sek.module';
import { SitesModule } from './sites/sites.module';
import { OperatorModule } from './operator/operator.module';

@Module({})
export class AppModule {
  static register({ config, logger, metrics }: ServiceContext<VaultConfig>): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot({
          serviceName: SERVICE_NAME,
          config,
          logger,
          metrics,
          database: {
            schema: config.DATABASE_SCHEMA,
            entities: VAULT_ENTITIES,
            migrations: VAULT_MIGRATIONS,
          },
          messaging: { topics: [Topics.siteRegistered, Topics.auditRecorded, Topics.notificationRequested] },
          vault: config,
        }),
        AuthModule.forRoot({ serviceName: SERVICE_NAME, serviceSecret: config.SERVICE_AUTH_SECRET }),
        IdentityModule,
        SitesModule,
        SekModule,
        AuditModule,
        PhiModule,
        OperatorModule,
      ],
    };
  }
}
