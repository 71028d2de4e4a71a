import { Events } from '@cloud-connect/contracts';
import type { MessagingService } from '@cloud-connect/service-kit';
import { randomUUID } from 'node:crypto';
import { auditEntry } from '../common/site-events';

/**
 * "Sync now" (recent or full): queues a `sync.requested` like the scheduler does, with its audit
 * entry in the same transaction. The sync consumer runs it.
 */
export class RequestSync {
  constructor(private readonly messaging: MessagingService) {}

  async execute(
    siteNumber: string,
    scope: 'recent' | 'full',
    actor: string,
  ): Promise<{ requestId: string; scope: 'recent' | 'full' }> {
    const requestId = randomUUID();
    await this.messaging.transaction(async (tx) => {
      await this.messaging.outbox.enqueue(
        tx,
        this.messaging.registry.create(Events.syncRequested, siteNumber, {
          requestId,
          scope,
          requestedBy: actor,
        }),
      );
      await this.messaging.outbox.enqueue(
        tx,
        auditEntry(this.messaging.registry, siteNumber, actor, 'emr.sync.request', 'allowed'),
      );
    });
    return { requestId, scope };
  }
}
