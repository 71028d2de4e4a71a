import { Topics } from '@cloud-connect/contracts';
import { MessagingTables1732300000000 } from '@cloud-connect/db';
import {
  SiteReplicaTable1732300000100,
  serviceAppModule,
  type ServiceContext,
} from '@cloud-connect/service-kit';
import { SERVICE_NAME, type NotifierConfig } from './config';
import { Deliveries1732300006000, SmsReceipts1732300014200 } from './delivery/deliveries.migration';
import { DeliveryModule } from './delivery/delivery.module';
import { MailModule } from './mail/mail.module';

export const AppModule = serviceAppModule(SERVICE_NAME, (context: ServiceContext<NotifierConfig>) => ({
  migrations: [
    MessagingTables1732300000000,
    SiteReplicaTable1732300000100,
    Deliveries1732300006000,
    SmsReceipts1732300014200,
  ],
  topics: [Topics.siteRegistered, Topics.notificationRequested],
  siteReplica: true,
  modules: [MailModule.register(context.config), DeliveryModule.register(context.config)],
}));
