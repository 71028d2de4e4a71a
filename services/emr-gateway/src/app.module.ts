import { type DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@cloud-connect/auth';
import { Topics } from '@cloud-connect/contracts';
import { CoreModule, SiteReplicaModule, type ServiceContext } from '@cloud-connect/service-kit';
import { SERVICE_NAME, type EmrGatewayConfig } from './config';
import { EMR_GATEWAY_MIGRATIONS } from './database';
import { EmrModule } from './emr.module';

@Module({})
export class AppModule {
  static register({ config, logger, metrics }: ServiceContext<EmrGatewayConfig>): DynamicModule {
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
            entities: [],
            migrations: EMR_GATEWAY_MIGRATIONS,
          },
          messaging: {
            topics: [
              Topics.siteRegistered,
              Topics.emrCommand,
              Topics.referralReceived,
              Topics.formCompleted,
              Topics.appointmentsSynced,
              Topics.syncRequested,
              Topics.syncCompleted,
              Topics.notificationRequested,
              Topics.auditRecorded,
            ],
          },
          vault: config,
        }),
        AuthModule.forRoot({
          serviceName: SERVICE_NAME,
          serviceSecret: config.SERVICE_AUTH_SECRET,
          adminJwksUrl: config.ADMIN_JWKS_URL,
        }),
        SiteReplicaModule,
        EmrModule,
      ],
    };
  }
}
