import { defineEvent, type EventDefinition } from '@cloud-connect/kafka';
import { z } from 'zod';
import { Topics } from './topics';

/**
 * The product's event catalogue: one entry per envelope `type`, with its schema version, the
 * topic it travels on and the schema of its payload. Payloads carry identifiers and metadata,
 * never PHI in plaintext and never a secret (docs/architecture.md, flow 5).
 */
const siteNumber = z.string().regex(/^[1-9][0-9]{0,9}$/, 'a site number is 1 to 10 digits');
const locale = z.enum(['en', 'fr']);

export const siteRegisteredV1 = z.object({
  siteNumber,
  name: z.string().min(1).max(200),
  locale,
  timezone: z.string().min(1),
  adminEmail: z.email(),
  clinicalAdminEmail: z.email().nullable(),
});

export const referralReceivedV1 = z.object({
  referralId: z.uuid(),
  integrationId: z.uuid(),
  bundleId: z.string().min(1),
  messageHeaderId: z.string().min(1),
  eventCode: z.string().min(1),
  receivedAt: z.iso.datetime(),
});

/**
 * A referral's state changed because its receiver (an integrator with OAuth credentials, or an
 * integration posting with its API key) sent `notify-update-status`. Codes only: no free text.
 */
/**
 * How to reach a referral's referrer (the original referral's requester, PractitionerRole or
 * Practitioner telecom) for status notices: sealed for the site by the vault service like the
 * patient's contact (record id `recordId`), opened only by the notifier; in clear only which
 * channels exist and the language.
 */
const sealedReferrer = z.object({
  locale: locale.optional(),
  channels: z.array(z.enum(['email', 'sms'])),
  recordId: z.string().min(1).max(200),
  sealed: z.object({ alg: z.literal('cc-phi-envelope-v1'), envelope: z.base64() }).strict(),
});

export const referralStatusChangedV1 = z.object({
  /** Id of the stored message that carried the change (a referral message row of intake). */
  messageId: z.uuid(),
  serviceRequestId: z.string().min(1),
  /** The ServiceRequest.status the referral now has. */
  status: z.enum(['draft', 'active', 'on-hold', 'revoked', 'completed', 'entered-in-error', 'unknown']),
  /** Task.status as the receiver sent it, when the change came as a Task. */
  taskStatus: z.string().min(1).max(40).optional(),
  /** Task.businessStatus coding code, when the receiver sent one (e.g. `booked`). */
  businessStatus: z.string().min(1).max(64).optional(),
  /** Who changed it: `oauth-client:<client id>` or `integration:<id>`. */
  changedBy: z.string().min(1),
  changedAt: z.iso.datetime(),
  /** The referrer, when the referral names one with a contact (declined and booked notices). */
  referrer: sealedReferrer.optional(),
});

/**
 * An appointment for a referral was added, changed or cancelled (`notify-*-appointment`). The
 * reminder scheduler books reminders on `status = booked` and cancels them on `cancelled`,
 * `noshow` or `entered-in-error`. Times only: who the patient is stays in the stored message.
 */
export const appointmentChangedV1 = z.object({
  messageId: z.uuid(),
  /** The Appointment's id as its sender knows it (stable across its updates). */
  appointmentId: z.string().min(1),
  serviceRequestId: z.string().min(1).nullable(),
  status: z.enum([
    'proposed',
    'pending',
    'booked',
    'arrived',
    'fulfilled',
    'cancelled',
    'noshow',
    'entered-in-error',
    'checked-in',
    'waitlist',
  ]),
  start: z.iso.datetime({ offset: true }).optional(),
  end: z.iso.datetime({ offset: true }).optional(),
  source: z.enum(['referral', 'emr-sync']),
  changedBy: z.string().min(1),
  changedAt: z.iso.datetime(),
  /** The referrer, when the referral names one with a contact (declined and booked notices). */
  referrer: sealedReferrer.optional(),
  /**
   * How to reach the patient for reminders and notices, when the message carried a Patient: the
   * contact details (e-mail, phone) sealed for the site by the vault service (record id
   * `recordId`), opened only by the notifier at send time; in clear only which channels exist,
   * the patient's language and the sender's Patient id (for opt-outs).
   */
  patient: z
    .object({
      ref: z.string().min(1).max(200),
      locale: locale.optional(),
      channels: z.array(z.enum(['email', 'sms'])),
      recordId: z.string().min(1).max(200),
      sealed: z.object({ alg: z.literal('cc-phi-envelope-v1'), envelope: z.base64() }).strict(),
    })
    .optional(),
});

/** Forms completed in one sitting: `total` notes that may be combined into one (a setting). */
const formSitting = z.object({
  id: z.string().min(1).max(100),
  index: z.number().int().min(1),
  total: z.number().int().min(1),
});

export const emrCommandV1 = z.object({
  commandId: z.uuid(),
  kind: z.enum(['save-progress-note', 'attach-pdf', 'mark-arrived', 'upsert-appointment', 'create-tickler']),
  /** Ordering key within the site: commands for one patient apply in order. */
  patientKey: z.string().min(1),
  /** Reference to the encrypted content held by the producing service; never PHI inline. */
  contentRef: z.string().min(1).optional(),
  /**
   * The command's content (patient identifiers, note text, PDF) sealed for the site by the vault
   * service's PHI envelope encryption (`POST /sites/:site/phi/encrypt`) with record id
   * `emr-command/<commandId>`: one opaque envelope (see docs/emr.md, "Contract change"). Never
   * plaintext.
   */
  sealed: z
    .object({
      alg: z.literal('cc-phi-envelope-v1'),
      envelope: z.base64(),
    })
    .strict()
    .optional(),
  /** Forms completed in one sitting: `total` notes that may be combined into one (a setting). */
  sitting: formSitting.optional(),
});

/**
 * A completed form (FHIR QuestionnaireResponse) the forms platform posted to referral-intake,
 * stored encrypted there. `kind`: `questionnaire` becomes a progress note, `web-form` (a
 * website-form submission with attachments) a PDF, `kiosk-check-in` (an `Encounter` posted by the
 * platform's kiosk) marks the patient's appointments arrived. `sitting`: the forms one patient completed in
 * one session of the platform (its id is the platform's, opaque; see docs/emr.md). No PHI.
 */
export const formCompletedV1 = z.object({
  formId: z.uuid(),
  clientId: z.string().min(1),
  kind: z.enum(['questionnaire', 'web-form', 'kiosk-check-in']),
  sitting: formSitting.optional(),
  receivedAt: z.iso.datetime(),
});

export const syncRequestedV1 = z.object({
  requestId: z.uuid(),
  scope: z.enum(['recent', 'full']),
  requestedBy: z.string().min(1),
  /** Scheduled runs: the slot this request fires for, and the schedules' next slots. */
  scheduledFor: z.iso.datetime().optional(),
  nextRecentAt: z.iso.datetime().optional(),
  nextFullAt: z.iso.datetime().optional(),
});

export const syncCompletedV1 = z.object({
  requestId: z.uuid(),
  scope: z.enum(['recent', 'full']),
  outcome: z.enum(['succeeded', 'failed']),
  appointments: z.number().int().nonnegative(),
  error: z.string().optional(),
  /** Providers whose schedule the EMR user may not read, by name, with the permission to grant. */
  providerProblems: z
    .array(
      z.object({ providerId: z.string(), providerName: z.string(), missingPermissions: z.array(z.string()) }),
    )
    .optional(),
});

export const notificationRequestedV1 = z.object({
  notificationId: z.uuid(),
  channel: z.enum(['email', 'sms']),
  template: z.string().min(1),
  locale,
  /** Recipient reference resolved by the notifier (e.g. `site-clinical-admin`), or an address. */
  recipient: z.string().min(1),
  params: z.record(z.string(), z.string()),
  /**
   * With `recipient: 'patient'`: the patient's contact details sealed by the vault service
   * (record id `recordId`), opened by the notifier at send time. Never an address in clear.
   */
  sealedRecipient: z
    .object({
      recordId: z.string().min(1).max(200),
      alg: z.literal('cc-phi-envelope-v1'),
      envelope: z.base64(),
    })
    .strict()
    .optional(),
  /** Params that must not travel in clear (a one-time link), sealed for the notifier; merged into `params`. */
  sealedParams: z
    .object({ alg: z.literal('cc-sealed-params-v1'), envelope: z.base64() })
    .strict()
    .optional(),
});

export const auditRecordedV1 = z.object({
  auditId: z.uuid(),
  actor: z.string().min(1),
  action: z.string().min(1),
  target: z.string().min(1),
  outcome: z.enum(['allowed', 'denied', 'failed']),
  sourceAddress: z.string().optional(),
});

/**
 * What an EMR sync read, for the platform's pull API (FHIR `Appointment`): one event per batch of
 * at most 100 appointments. Each appointment's content (times, status, the EMR's patient and
 * provider) is sealed by the vault service under the site's SEK, bound to the record id
 * `emr-appointment/<appointmentId>`; only the EMR's appointment id travels in clear.
 */
export const appointmentsSyncedV1 = z.object({
  requestId: z.uuid(),
  scope: z.enum(['recent', 'full']),
  /** The days the sync covered (site's local dates, inclusive). */
  from: z.iso.date(),
  to: z.iso.date(),
  batch: z.object({ index: z.number().int().nonnegative(), total: z.number().int().positive() }),
  appointments: z
    .array(
      z
        .object({
          appointmentId: z.string().min(1).max(200),
          sealed: z.object({ alg: z.literal('cc-phi-envelope-v1'), envelope: z.base64() }).strict(),
        })
        .strict(),
    )
    .max(100),
});

export const Events = {
  siteRegistered: defineEvent('site.registered', 1, Topics.siteRegistered, siteRegisteredV1),
  referralReceived: defineEvent('referral.received', 1, Topics.referralReceived, referralReceivedV1),
  referralStatusChanged: defineEvent(
    'referral.status-changed',
    1,
    Topics.referralStatusChanged,
    referralStatusChangedV1,
  ),
  appointmentChanged: defineEvent('appointment.changed', 1, Topics.appointmentChanged, appointmentChangedV1),
  emrCommand: defineEvent('emr.command', 1, Topics.emrCommand, emrCommandV1),
  syncRequested: defineEvent('sync.requested', 1, Topics.syncRequested, syncRequestedV1),
  syncCompleted: defineEvent('sync.completed', 1, Topics.syncCompleted, syncCompletedV1),
  notificationRequested: defineEvent(
    'notification.requested',
    1,
    Topics.notificationRequested,
    notificationRequestedV1,
  ),
  auditRecorded: defineEvent('audit.recorded', 1, Topics.auditRecorded, auditRecordedV1),
  formCompleted: defineEvent('form.completed', 1, Topics.formCompleted, formCompletedV1),
  appointmentsSynced: defineEvent('appointments.synced', 1, Topics.appointmentsSynced, appointmentsSyncedV1),
} as const;

export const PRODUCT_EVENTS: readonly EventDefinition[] = Object.values(Events);

/**
 * Which services may produce each event type (the `cc-producer` header). The broker's per-topic
 * write ACLs (deploy/local/stack.sh, docs/security.md) enforce who writes a topic; consumers
 * check this too and dead-letter an event whose named producer is not listed, or that names none.
 */
export const EVENT_PRODUCERS: Readonly<Record<string, readonly string[]>> = {
  [Events.siteRegistered.type]: ['vault'],
  [Events.referralReceived.type]: ['referral-intake'],
  [Events.referralStatusChanged.type]: ['referral-intake'],
  [Events.appointmentChanged.type]: ['referral-intake'],
  [Events.emrCommand.type]: ['emr-gateway'],
  [Events.syncRequested.type]: ['emr-gateway', 'scheduler'],
  [Events.syncCompleted.type]: ['emr-gateway'],
  [Events.notificationRequested.type]: ['vault', 'emr-gateway', 'scheduler'],
  [Events.auditRecorded.type]: ['vault', 'emr-gateway', 'referral-intake', 'scheduler'],
  [Events.formCompleted.type]: ['referral-intake'],
  [Events.appointmentsSynced.type]: ['emr-gateway'],
};

/** Why `producer` may not send an event of `type` (for the dead letter), or null when it may. */
export function producerRefusal(type: string, producer: string | undefined): string | null {
  const allowed = EVENT_PRODUCERS[type] ?? [];
  if (!producer) return `no producer named; ${type} comes from ${allowed.join(', ') || 'nobody'}`;
  if (!allowed.includes(producer)) return `${producer} may not produce ${type}`;
  return null;
}
