import { auditEvent } from '@cloud-connect/service-kit';
import type { OutboxWriter } from '@cloud-connect/db';
import type { EventRegistry } from '@cloud-connect/kafka';
import type { DataSource } from 'typeorm';
import { IntegrationError } from './integration';
import { IntegrationsRepository } from './integrations.repository';
import { CopyDeliveriesRepository, type DeliveryView } from './copy-deliveries.repository';

export interface DeliveryAdminDeps {
  dataSource: DataSource;
  schema: string;
  outbox: OutboxWriter;
  registry: EventRegistry;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function requireIntegration(
  deps: DeliveryAdminDeps,
  site: string,
  integrationId: string,
): Promise<void> {
  const found = UUID.test(integrationId)
    ? await new IntegrationsRepository(deps.schema).find(deps.dataSource.manager, site, integrationId)
    : null;
  if (!found) throw new IntegrationError('integration-not-found', 'no such integration');
}

/** The delivery log of one integration: every copy, its attempts, status and last error. */
export class ListDeliveries {
  constructor(private readonly deps: DeliveryAdminDeps) {}

  async execute(site: string, integrationId: string): Promise<DeliveryView[]> {
    await requireIntegration(this.deps, site, integrationId);
    return new CopyDeliveriesRepository(this.deps.schema).list(
      this.deps.dataSource.manager,
      site,
      integrationId,
    );
  }
}

/** Puts dead-lettered copies of an integration (all, or one) back in the queue; audited. */
export class ReplayDeliveries {
  constructor(private readonly deps: DeliveryAdminDeps) {}

  async execute(
    site: string,
    integrationId: string,
    deliveryId: string | null,
    actor: string,
  ): Promise<string[]> {
    await requireIntegration(this.deps, site, integrationId);
    if (deliveryId !== null && !UUID.test(deliveryId))
      throw new IntegrationError('invalid-integration', 'delivery id must be a uuid');
    return this.deps.dataSource.transaction(async (tx) => {
      const replayed = await new CopyDeliveriesRepository(this.deps.schema).replay(
        tx,
        site,
        integrationId,
        deliveryId,
      );
      await this.deps.outbox.enqueue(
        tx,
        auditEvent(this.deps.registry, site, {
          actor,
          action: 'integration.replay-copies',
          target: `site/${site}/integration/${integrationId}`,
        }),
      );
      return replayed;
    });
  }
}
