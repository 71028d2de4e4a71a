import { Topics } from '@cloud-connect/contracts';
import { MessagingTables1732300000000 } from '@cloud-connect/db';
import {
  SiteReplicaTable1732300000100,
  serviceAppModule,
  type ServiceContext,
} from '@cloud-connect/service-kit';
import { SERVICE_NAME, type SchedulerConfig } from './config';
import { SchedulerTables1732300014000 } from './schedules/scheduler.migration';
import { SchedulerModule } from './scheduler.module';

export const AppModule = serviceAppModule(SERVICE_NAME, (context: ServiceContext<SchedulerConfig>) => ({
  migrations: [MessagingTables1732300000000, SiteReplicaTable1732300000100, SchedulerTables1732300014000],
  topics: [
    Topics.siteRegistered,
    Topics.syncRequested,
    Topics.notificationRequested,
    Topics.appointmentChanged,
    Topics.referralStatusChanged,
    Topics.auditRecorded,
  ],
  adminKeys: 'jwks',
  siteReplica: true,
  modules: [SchedulerModule.register(context.config)],
}));
