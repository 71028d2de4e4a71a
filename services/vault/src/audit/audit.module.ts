import { Topics } from '@cloud-connect/contracts';
import { Module, type OnModuleInit } from '@nestjs/common';
import { MessagingService } from '@cloud-connect/service-kit';
import { DataSource } from 'typeorm';
import { AuditController } from './audit.controller';
import { AuditTrail } from './audit-trail';

/** Consumes `audit.recorded` from every service into the per-site hash chains. */
@Module({
  controllers: [AuditController],
  providers: [
    { provide: AuditTrail, inject: [DataSource], useFactory: (ds: DataSource) => new AuditTrail(ds) },
  ],
  exports: [AuditTrail],
})
export class AuditModule implements OnModuleInit {
  constructor(
    private readonly messaging: MessagingService,
    private readonly trail: AuditTrail,
  ) {}

  onModuleInit(): void {
    this.messaging.registerConsumer({
      name: 'audit-trail',
      topics: [Topics.auditRecorded],
      handler: (envelope, { tx }) => this.trail.record(envelope, tx),
      isPermanent: (error) => (error as { name?: string }).name === 'ZodError',
    });
  }
}
