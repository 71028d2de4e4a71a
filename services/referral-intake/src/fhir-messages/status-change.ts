import { appointmentChangedV1, referralStatusChangedV1 } from '@cloud-connect/contracts';
import type { z } from 'zod';
import type { Bundle } from '@medplum/fhirtypes';
import { BundleIndex } from './ereferral-rules';
import { error, type ValidationIssue } from './validation-issue';

/** The status vocabularies are the event contracts' (libs/contracts), which are FHIR R4's. */
export type ServiceRequestStatus = z.infer<typeof referralStatusChangedV1>['status'];
export type AppointmentStatus = z.infer<typeof appointmentChangedV1>['status'];

/** What a status-back message changes: the referral's state, or an appointment booked for it. */
export type StatusChange =
  | {
      kind: 'referral-status';
      serviceRequestId: string;
      status: ServiceRequestStatus;
      taskStatus?: string;
      businessStatus?: string;
      /** When the sender says the message was made (Bundle.timestamp); orders late arrivals. */
      messageTimestamp: string | null;
    }
  | {
      kind: 'appointment';
      appointmentId: string;
      serviceRequestId: string | null;
      status: AppointmentStatus;
      start?: string;
      end?: string;
      messageTimestamp: string | null;
    };

/** The events that carry status back (answers to a referral), and the resource each is about. */
export const STATUS_EVENTS: Record<string, 'Task|ServiceRequest' | 'Appointment'> = {
  'notify-update-status': 'Task|ServiceRequest',
  'notify-add-appointment': 'Appointment',
  'notify-update-appointment': 'Appointment',
  'notify-revoke-appointment': 'Appointment',
};

const SERVICE_REQUEST_STATUSES = new Set<string>(referralStatusChangedV1.shape.status.options);
const APPOINTMENT_STATUSES = new Set<string>(appointmentChangedV1.shape.status.options);
const ENDED_APPOINTMENT = new Set<string>(['cancelled', 'noshow', 'entered-in-error']);

/**
 * What a receiver's Task.status means for the referral (ServiceRequest.status): still being
 * worked on, paused, declined or withdrawn, done. FHIR R4 Task.status values.
 */
const TASK_TO_SERVICE_REQUEST: Record<string, ServiceRequestStatus> = {
  draft: 'active',
  requested: 'active',
  received: 'active',
  accepted: 'active',
  ready: 'active',
  'in-progress': 'active',
  'on-hold': 'on-hold',
  rejected: 'revoked',
  cancelled: 'revoked',
  failed: 'revoked',
  completed: 'completed',
  'entered-in-error': 'entered-in-error',
};

const CODE = /^[A-Za-z0-9._:-]{1,64}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The change a validated status-back message asks for, or the issues that keep it from being
 * applied (a message that passed validation has a focus of the right type already). Pure.
 */
export function statusChangeOf(
  bundle: Bundle,
  eventCode: string,
): { change: StatusChange } | { issues: ValidationIssue[] } | null {
  const about = STATUS_EVENTS[eventCode];
  if (!about) return null;
  const index = BundleIndex.of(bundle);
  const header = bundle.entry?.[0]?.resource;
  const focus = (header?.resourceType === 'MessageHeader' ? (header.focus ?? []) : [])
    .map((f) => index.target(f))
    .find((e) => e !== undefined && about.split('|').includes(e.resource.resourceType));
  if (!focus) {
    return {
      issues: [
        error(
          'business-rule',
          'Bundle.entry[0].resource.focus',
          `the focus must be a ${about.replace('|', ' or ')}`,
        ),
      ],
    };
  }
  const at = `Bundle.entry[${focus.index}].resource`;
  const resource = focus.resource;
  const timestamp =
    bundle.timestamp !== undefined && DATE_TIME.test(bundle.timestamp) ? bundle.timestamp : null;

  if (resource.resourceType === 'Appointment') {
    const id = resource.id ?? '';
    if (!id) return { issues: [error('required', `${at}.id`, 'the Appointment needs an id')] };
    const sent: string = resource.status;
    if (!isAppointmentStatus(sent))
      return { issues: [error('code-invalid', `${at}.status`, 'not an R4 Appointment.status')] };
    const status: AppointmentStatus =
      eventCode === 'notify-revoke-appointment' && !ENDED_APPOINTMENT.has(sent) ? 'cancelled' : sent;
    const basedOn = (resource.basedOn ?? [])
      .map((b) => index.target(b))
      .find((e) => e?.resource.resourceType === 'ServiceRequest');
    const times: { start?: string; end?: string } = {};
    for (const key of ['start', 'end'] as const) {
      const value = resource[key];
      if (value === undefined) continue;
      if (!DATE_TIME.test(value))
        return { issues: [error('value', `${at}.${key}`, 'must be an instant with a time zone')] };
      times[key] = value;
    }
    if (status === 'booked' && !times.start)
      return { issues: [error('required', `${at}.start`, 'a booked appointment needs its start time')] };
    return {
      change: {
        kind: 'appointment',
        appointmentId: id,
        serviceRequestId: basedOn?.resource.id ?? null,
        status,
        ...times,
        messageTimestamp: timestamp,
      },
    };
  }

  if (resource.resourceType === 'ServiceRequest') {
    const status: string = resource.status;
    if (!isServiceRequestStatus(status))
      return { issues: [error('code-invalid', `${at}.status`, 'not an R4 ServiceRequest.status')] };
    return {
      change: {
        kind: 'referral-status',
        serviceRequestId: String(resource.id),
        status,
        messageTimestamp: timestamp,
      },
    };
  }

  if (resource.resourceType !== 'Task')
    throw new Error("unreachable: the focus is one of the event's resource types");
  // A Task whose focus is the referral.
  const serviceRequest = index.target(resource.focus)?.resource;
  if (serviceRequest?.resourceType !== 'ServiceRequest' || serviceRequest.id === undefined)
    return {
      issues: [
        error(
          'business-rule',
          `${at}.focus`,
          'the Task must point to the referral (a ServiceRequest in the bundle)',
        ),
      ],
    };
  const taskStatus: string = resource.status;
  const mapped = TASK_TO_SERVICE_REQUEST[taskStatus];
  if (!mapped) return { issues: [error('code-invalid', `${at}.status`, 'not an R4 Task.status')] };
  const businessCode = resource.businessStatus?.coding?.[0]?.code;
  return {
    change: {
      kind: 'referral-status',
      serviceRequestId: serviceRequest.id,
      status: mapped,
      taskStatus,
      ...(businessCode !== undefined && CODE.test(businessCode) ? { businessStatus: businessCode } : {}),
      messageTimestamp: timestamp,
    },
  };
}

function isAppointmentStatus(status: string): status is AppointmentStatus {
  return APPOINTMENT_STATUSES.has(status);
}

function isServiceRequestStatus(status: string): status is ServiceRequestStatus {
  return SERVICE_REQUEST_STATUSES.has(status);
}
