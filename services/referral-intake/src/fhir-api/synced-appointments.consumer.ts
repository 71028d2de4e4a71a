import { Events, Topics } from '@cloud-connect/contracts';
import type { Logger } from '@cloud-connect/observability';
import type { MessagingService } from '@cloud-connect/service-kit';
import type { ReadAppointments } from './read-appointments';

/** Stores what EMR syncs publish (`appointments.synced`) for the pull API. */
export function registerSyncedAppointmentsConsumer(
  messaging: MessagingService,
  appointments: ReadAppointments,
  logger: Logger,
): void {
  messaging.registerConsumer({
    name: 'synced-appointments',
    topics: [Topics.appointmentsSynced],
    handler: async (envelope, { tx }) => {
      if (envelope.type !== Events.appointmentsSynced.type) return;
      const event = Events.appointmentsSynced.schema.parse(envelope.payload);
      const written = await appointments.store(tx, envelope.siteId, event.appointments);
      logger.info(
        {
          siteNumber: envelope.siteId,
          requestId: event.requestId,
          batch: event.batch.index,
          received: event.appointments.length,
          changed: written,
        },
        'synced appointments stored',
      );
    },
  });
}
