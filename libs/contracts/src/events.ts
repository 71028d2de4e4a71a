import { defineEvent, type EventDefinition } from '@cloud-connect/kafka';
import { z } from 'zod';
import { Topics } from './topics';

/**
 * The product's event catalogue: one entry per envelope `type`, with its schema version, the
 * topic it travels on and the schema of its payload. Payloads carry identifiers and metadata,
 * never PHI in plaintext and never a secret (DESIGN.md, flow 5).
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
  sitting: z
    .object({
      id: z.string().min(1).max(100),
      index: z.number().int().min(1),
      total: z.number().int().min(1),
    })
    .optional(),
});

export const syncRequestedV1 = z.object({
  requestId: z.uuid(),
  scope: z.enum(['recent', 'full']),
  requestedBy: z.string().min(1),
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
});

export const auditRecordedV1 = z.object({
  auditId: z.uuid(),
  actor: z.string().min(1),
  action: z.string().min(1),
  target: z.string().min(1),
  outcome: z.enum(['allowed', 'denied', 'failed']),
  sourceAddress: z.string().optional(),
});

export const Events = {
  siteRegistered: defineEvent('site.registered', 1, Topics.siteRegistered, siteRegisteredV1),
  referralReceived: defineEvent('referral.received', 1, Topics.referralReceived, referralReceivedV1),
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
} as const;

export const PRODUCT_EVENTS: readonly EventDefinition[] = Object.values(Events);
