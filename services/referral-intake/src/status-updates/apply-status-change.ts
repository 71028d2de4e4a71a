import { Events } from '@cloud-connect/contracts';
import type { OutboxWriter } from '@cloud-connect/db';
import type { EventRegistry } from '@cloud-connect/kafka';
import type { EntityManager } from 'typeorm';
import type { Db } from '../integrations/integrations.repository';
import { SERVICE_REQUEST_EVENTS } from '../fhir-messages/ereferral-rules';
import { ReferralStatesRepository, type AppliedBy } from './referral-states.repository';
import type { StatusChange } from '../fhir-messages/status-change';
import type { AppointmentPatient } from './patient-contact';

export interface ApplyStatusChangeDeps {
  schema: string;
  outbox: OutboxWriter;
  registry: EventRegistry;
}

/**
 * Applies a status-back message inside the transaction that stores it: the referral's state (or
 * the appointment's), the referral moved forward in the pull API's `_lastUpdated` order, and the
 * event (`referral.status-changed` / `appointment.changed`) in the outbox. All or nothing.
 */
export class ApplyStatusChange {
  private readonly states: ReferralStatesRepository;

  constructor(private readonly deps: ApplyStatusChangeDeps) {
    this.states = new ReferralStatesRepository(deps.schema);
  }

  /** Who sent the site's referral (a ServiceRequest it received) with this id; null if none. */
  referralOrigin(
    db: Db,
    siteNumber: string,
    serviceRequestId: string,
  ): Promise<{ integrationId: string | null } | null> {
    return this.states.referralOrigin(db, siteNumber, serviceRequestId, SERVICE_REQUEST_EVENTS);
  }

  /** 'applied', or 'stale' when a newer message already set this state (stored, not applied). */
  async inTransaction(
    tx: EntityManager,
    siteNumber: string,
    change: StatusChange,
    by: Omit<AppliedBy, 'messageTimestamp'>,
    patient?: AppointmentPatient,
  ): Promise<'applied' | 'stale'> {
    const now = new Date();
    const changedAt = now.toISOString();
    const applied = { ...by, messageTimestamp: clampedMessageTime(change.messageTimestamp, now) };
    if (change.kind === 'referral-status') {
      if (!(await this.states.applyStatus(tx, siteNumber, change, applied))) return 'stale';
      await this.states.touchReferral(tx, siteNumber, change.serviceRequestId, SERVICE_REQUEST_EVENTS);
      await this.deps.outbox.enqueue(
        tx,
        this.deps.registry.create(Events.referralStatusChanged, siteNumber, {
          messageId: by.messageId,
          serviceRequestId: change.serviceRequestId,
          status: change.status,
          ...(change.taskStatus ? { taskStatus: change.taskStatus } : {}),
          ...(change.businessStatus ? { businessStatus: change.businessStatus } : {}),
          changedBy: by.changedBy,
          changedAt,
        }),
      );
      return 'applied';
    }
    if (!(await this.states.applyAppointment(tx, siteNumber, change, applied))) return 'stale';
    await this.deps.outbox.enqueue(
      tx,
      this.deps.registry.create(Events.appointmentChanged, siteNumber, {
        messageId: by.messageId,
        appointmentId: change.appointmentId,
        serviceRequestId: change.serviceRequestId,
        status: change.status,
        ...(change.start ? { start: change.start } : {}),
        ...(change.end ? { end: change.end } : {}),
        source: 'referral',
        changedBy: by.changedBy,
        changedAt,
        ...(patient ? { patient } : {}),
      }),
    );
    return 'applied';
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
