import { type DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@cloud-connect/auth';
import { Topics } from '@cloud-connect/contracts';
import { MessagingTables1732300000000 } from '@cloud-connect/db';
import {
  SiteReplicaModule,
  SiteReplicaTable1732300000100,
  serviceCore,
  type ServiceContext,
} from '@cloud-connect/service-kit';
import { SERVICE_NAME, type SchedulerConfig } from './config';
import { SchedulerTables1732300014000 } from './schedules/scheduler.migration';
import { SchedulerModule } from './schedules/scheduler.module';

@Module({})
export class AppModule {
  static register(context: ServiceContext<SchedulerConfig>): DynamicModule {
    const { config } = context;
    return {
      module: AppModule,
      imports: [
        serviceCore(SERVICE_NAME, context, {
          migrations: [
            MessagingTables1732300000000,
            SiteReplicaTable1732300000100,
            SchedulerTables1732300014000,
          ],
          topics: [
            Topics.siteRegistered,
            Topics.syncRequested,
            Topics.notificationRequested,
            Topics.appointmentChanged,
            Topics.referralStatusChanged,
            Topics.auditRecorded,
          ],
        }),
        AuthModule.forRoot({
          serviceName: SERVICE_NAME,
          serviceKeys: config,
          adminJwksUrl: config.ADMIN_JWKS_URL,
        }),
        SiteReplicaModule,
        SchedulerModule.register(config),
      ],
    };
  }
}
