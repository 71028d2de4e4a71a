import { type DynamicModule, Module } from '@nestjs/common';
import { Topics } from '@cloud-connect/contracts';
import { MessagingTables1732300000000 } from '@cloud-connect/db';
import {
  CoreModule,
  SiteReplicaModule,
  SiteReplicaTable1732300000100,
  type ServiceContext,
} from '@cloud-connect/service-kit';
import { SERVICE_NAME, type EmrGatewayConfig } from './config';

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
            migrations: [MessagingTables1732300000000, SiteReplicaTable1732300000100],
          },
          messaging: {
            topics: [
              Topics.siteRegistered,
              Topics.emrCommand,
              Topics.syncRequested,
              Topics.syncCompleted,
              Topics.notificationRequested,
              Topics.auditRecorded,
            ],
          },
          vault: config,
        }),
        SiteReplicaModule,
      ],
    };
  }
}
