import { Events } from '@cloud-connect/contracts';
import type { Envelope, EventRegistry } from '@cloud-connect/kafka';
import { randomUUID } from 'node:crypto';

export interface AuditFields {
  actor: string;
  action: string;
  /** What was acted on, as a path: `site/<n>/<kind>/<id>`. */
  target: string;
  outcome?: 'allowed' | 'denied' | 'failed';
  /** The caller's address, when the action came over HTTP from a person. */
  sourceAddress?: string | undefined;
}

/** The `audit.recorded` event of one admin action, to enqueue in the action's own transaction. */
export function auditEvent(
  registry: EventRegistry,
  siteNumber: string,
  fields: AuditFields,
  options: { occurredAt?: Date } = {},
): Envelope {
  return registry.create(
    Events.auditRecorded,
    siteNumber,
    {
      auditId: randomUUID(),
      actor: fields.actor,
      action: fields.action,
      target: fields.target,
      outcome: fields.outcome ?? 'allowed',
      ...(fields.sourceAddress ? { sourceAddress: fields.sourceAddress } : {}),
    },
    options,
  );
}
