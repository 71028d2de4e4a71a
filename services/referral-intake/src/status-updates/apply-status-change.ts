import { Events } from '@cloud-connect/contracts';
import type { OutboxWriter } from '@cloud-connect/db';
import type { EventDefinition, EventRegistry, PayloadOf } from '@cloud-connect/kafka';
import { BoundedTtlCache } from '@cloud-connect/phi-client';
import type { EntityManager } from 'typeorm';
import type { LookupCacheOptions } from '../integrations/inbound-key';
import type { Db } from '../integrations/integrations.repository';
import { SERVICE_REQUEST_EVENTS } from '../fhir-messages/ereferral-rules';
import { ReferralStatesRepository, type AppliedBy } from './referral-states.repository';
import type { StatusChange } from '../fhir-messages/status-change';
import type { AppointmentPatient } from './patient-contact';
import type { SealedReferrer } from './referrer-contact';

export interface ApplyStatusChangeDeps {
  schema: string;
  outbox: OutboxWriter;
  registry: EventRegistry;
  /** The referral-origin look-up cache (default: none). */
  lookupCache?: LookupCacheOptions;
}

/**
 * Applies a status-back message inside the transaction that stores it: the referral's state (or
 * the appointment's), the referral moved forward in the pull API's `_lastUpdated` order, and the
 * event (`referral.status-changed` / `appointment.changed`) in the outbox. All or nothing.
 */
export class ApplyStatusChange {
  private readonly states: ReferralStatesRepository;
  /**
   * Who sent each referral, by site and ServiceRequest id, for the status-back role rule. The
   * sender of a referral never changes once it is stored (referrals are not deleted or moved), so
   * an entry cannot go stale; only found origins are kept (a referral may arrive at any moment),
   * bounded in count and age.
   */
  private readonly origins: BoundedTtlCache<{ integrationId: string | null }>;

  constructor(private readonly deps: ApplyStatusChangeDeps) {
    this.states = new ReferralStatesRepository(deps.schema);
    const cache = deps.lookupCache ?? { ttlMs: 0, maxEntries: 1 };
    this.origins = new BoundedTtlCache(cache.maxEntries, cache.ttlMs);
  }

  /** Who sent the site's referral (a ServiceRequest it received) with this id; null if none. */
  async referralOrigin(
    db: Db,
    siteNumber: string,
    serviceRequestId: string,
  ): Promise<{ integrationId: string | null } | null> {
    const key = `${siteNumber}\u0000${serviceRequestId}`;
    const cached = this.origins.get(key);
    if (cached) return cached;
    const origin = await this.states.referralOrigin(db, siteNumber, serviceRequestId, SERVICE_REQUEST_EVENTS);
    if (origin && (this.deps.lookupCache?.ttlMs ?? 0) > 0) this.origins.set(key, origin);
    return origin;
  }

  /** 'applied', or 'stale' when a newer message already set this state (stored, not applied). */
  async inTransaction(
    tx: EntityManager,
    siteNumber: string,
    change: StatusChange,
    by: Omit<AppliedBy, 'messageTimestamp'>,
    patient?: AppointmentPatient,
    referrer?: SealedReferrer,
  ): Promise<'applied' | 'stale'> {
    const now = new Date();
    const changedAt = now.toISOString();
    const applied = { ...by, messageTimestamp: clampedMessageTime(change.messageTimestamp, now) };
    if (change.kind === 'referral-status') {
      if (!(await this.states.applyStatus(tx, siteNumber, change, applied))) return 'stale';
      await this.states.touchReferral(tx, siteNumber, change.serviceRequestId, SERVICE_REQUEST_EVENTS);
      await this.publish(
        tx,
        siteNumber,
        Events.referralStatusChanged,
        by,
        changedAt,
        {
          serviceRequestId: change.serviceRequestId,
          status: change.status,
          ...(change.taskStatus ? { taskStatus: change.taskStatus } : {}),
          ...(change.businessStatus ? { businessStatus: change.businessStatus } : {}),
        },
        referrer ? { referrer } : {},
      );
      return 'applied';
    }
    if (!(await this.states.applyAppointment(tx, siteNumber, change, applied))) return 'stale';
    await this.publish(
      tx,
      siteNumber,
      Events.appointmentChanged,
      by,
      changedAt,
      {
        appointmentId: change.appointmentId,
        serviceRequestId: change.serviceRequestId,
        status: change.status,
        ...(change.start ? { start: change.start } : {}),
        ...(change.end ? { end: change.end } : {}),
        source: 'referral',
      },
      { ...(patient ? { patient } : {}), ...(referrer ? { referrer } : {}) },
    );
    return 'applied';
  }

  /**
   * Enqueues the event of an applied change in its transaction: the message that made it, the
   * change's own `fields`, who made it and when, then the contact details it carries (if any).
   */
  private async publish<D extends EventDefinition>(
    tx: EntityManager,
    siteNumber: string,
    event: D,
    by: Omit<AppliedBy, 'messageTimestamp'>,
    changedAt: string,
    fields: Partial<PayloadOf<D>>,
    contact: Partial<PayloadOf<D>>,
  ): Promise<void> {
    const payload = { messageId: by.messageId, ...fields, changedBy: by.changedBy, changedAt, ...contact };
    await this.deps.outbox.enqueue(tx, this.deps.registry.create(event, siteNumber, payload as PayloadOf<D>));
  }
}

/**
 * A message's own timestamp, never later than now: a message dated in the future would otherwise
 * freeze the referral's state (every later, genuine message would look older and be stored as stale).
 */
export function clampedMessageTime(stated: string | null | undefined, now: Date): string {
  const time = stated ? Date.parse(stated) : NaN;
  return Number.isNaN(time) || time > now.getTime() ? now.toISOString() : (stated as string);
}
