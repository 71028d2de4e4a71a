import { Events } from '@cloud-connect/contracts';
import { consumerGroup, EventConsumer, type EnvelopeContext, type EventEnvelope } from '@cloud-connect/kafka';
import { Module } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditController } from './audit.controller';
import { AuditTrail } from './audit-trail';

/** `audit.recorded` from every service into the per-site hash chains. */
@EventConsumer()
class AuditTrailConsumer {
  constructor(private readonly trail: AuditTrail) {}

  @EventPattern(Events.auditRecorded.type, consumerGroup('audit-trail'))
  onAuditRecorded(
    @Payload() envelope: EventEnvelope<typeof Events.auditRecorded>,
    @Ctx() ctx: EnvelopeContext<EntityManager>,
  ): Promise<void> {
    return this.trail.record(envelope, ctx.tx);
  }
}

@Module({
  controllers: [AuditController, AuditTrailConsumer],
  providers: [
    { provide: AuditTrail, inject: [DataSource], useFactory: (ds: DataSource) => new AuditTrail(ds) },
  ],
  exports: [AuditTrail],
})
export class AuditModule {}
