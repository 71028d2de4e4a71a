import type { OutboxWriter } from '@cloud-connect/db';
import type { EventRegistry } from '@cloud-connect/kafka';
import { auditEvent } from '@cloud-connect/service-kit';
import type { DataSource, EntityManager } from 'typeorm';

export interface AuditedDeps {
  dataSource: DataSource;
  outbox: OutboxWriter;
  registry: EventRegistry;
  /** Runs after a transaction that wrote to the outbox committed (wakes the relay). */
  afterCommit?: () => void;
}

/** A site admin's use case: its change and its audit entry in one transaction, then the relay woken. */
export abstract class AuditedUseCase<D extends AuditedDeps> {
  constructor(protected readonly deps: D) {}

  protected async transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    const result = await this.deps.dataSource.transaction(work);
    this.deps.afterCommit?.();
    return result;
  }

  protected async audit(
    tx: EntityManager,
    site: string,
    actor: string,
    action: string,
    target: string,
  ): Promise<void> {
    await this.deps.outbox.enqueue(tx, auditEvent(this.deps.registry, site, { actor, action, target }));
  }
}
