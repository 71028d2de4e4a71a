import { Module } from '@nestjs/common';
import { MessagingService } from '@cloud-connect/service-kit';
import { DataSource } from 'typeorm';
import { RegisterSite } from './register-site';
import { SitesController } from './sites.controller';

@Module({
  controllers: [SitesController],
  providers: [
    {
      provide: RegisterSite,
      inject: [DataSource, MessagingService],
      useFactory: (dataSource: DataSource, messaging: MessagingService) =>
        new RegisterSite(dataSource, messaging.outbox, messaging.registry),
    },
  ],
  exports: [RegisterSite],
})
export class SitesModule {}
