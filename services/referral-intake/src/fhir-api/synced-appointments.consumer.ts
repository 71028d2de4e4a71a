import { Events } from '@cloud-connect/contracts';
import { consumerGroup, EventConsumer, type EnvelopeContext, type EventEnvelope } from '@cloud-connect/kafka';
import type { Logger } from '@cloud-connect/observability';
import { LOGGER } from '@cloud-connect/service-kit';
import { Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { EntityManager } from 'typeorm';
import { ReadAppointments } from './read-appointments';

/** Stores what EMR syncs publish (`appointments.synced`) for the pull API. */
@EventConsumer()
export class SyncedAppointmentsConsumer {
  constructor(
    private readonly appointments: ReadAppointments,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @EventPattern(Events.appointmentsSynced.type, consumerGroup('synced-appointments'))
  async onSynced(
    @Payload() envelope: EventEnvelope<typeof Events.appointmentsSynced>,
    @Ctx() ctx: EnvelopeContext<EntityManager>,
  ): Promise<void> {
    const event = envelope.payload;
    const written = await this.appointments.store(ctx.tx, envelope.siteId, event.appointments);
    this.logger.info(
      {
        siteNumber: envelope.siteId,
        requestId: event.requestId,
        batch: event.batch.index,
        received: event.appointments.length,
        changed: written,
      },
      'synced appointments stored',
    );
  }
}
