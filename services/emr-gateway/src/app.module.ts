import { Topics } from '@cloud-connect/contracts';
import { serviceAppModule, type ServiceContext } from '@cloud-connect/service-kit';
import { SERVICE_NAME, type EmrGatewayConfig } from './config';
import { EMR_GATEWAY_MIGRATIONS } from './database';
import { EmrModule } from './emr.module';

export const AppModule = serviceAppModule(SERVICE_NAME, (context: ServiceContext<EmrGatewayConfig>) => ({
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
  vault: context.config,
  adminKeys: 'jwks',
  siteReplica: true,
  modules: [EmrModule],
}));
