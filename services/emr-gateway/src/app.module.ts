import { type DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@cloud-connect/auth';
import { Topics } from '@cloud-connect/contracts';
import { SiteReplicaModule, serviceCore, type ServiceContext } from '@cloud-connect/service-kit';
import { SERVICE_NAME, type EmrGatewayConfig } from './config';
import { EMR_GATEWAY_MIGRATIONS } from './database';
import { EmrModule } from './emr.module';

@Module({})
export class AppModule {
  static register(context: ServiceContext<EmrGatewayConfig>): DynamicModule {
    const { config } = context;
    return {
      module: AppModule,
      imports: [
        serviceCore(SERVICE_NAME, context, {
          migrations: EMR_GATEWAY_MIGRATIONS,
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
          vault: config,
        }),
        AuthModule.forRoot({
          serviceName: SERVICE_NAME,
          serviceKeys: config,
          adminJwksUrl: config.ADMIN_JWKS_URL,
        }),
        SiteReplicaModule,
        EmrModule,
      ],
    };
  }
}
