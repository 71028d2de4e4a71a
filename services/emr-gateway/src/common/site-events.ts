import { auditEvent } from '@cloud-connect/service-kit';
import { Events } from '@cloud-connect/contracts';
import type { Envelope, EventRegistry } from '@cloud-connect/kafka';
import { randomUUID } from 'node:crypto';

export type AlertTemplate =
  | 'emr-deauthorized'
  | 'emr-delivery-failing'
  | 'emr-delivery-failing-reminder'
  | 'emr-command-dead-lettered'
  | 'emr-provider-permission-missing'
  | 'emr-patient-unmatched';

/**
 * A `notification.requested` to the site's clinical administrator (the notifier resolves
 * `site-clinical-admin`, falling back to the site creator). Params carry no PHI.
 */
export function clinicalAdminAlert(
  registry: EventRegistry,
  siteNumber: string,
  locale: 'en' | 'fr',
  template: AlertTemplate,
  params: Record<string, string>,
): Envelope {
  return registry.create(Events.notificationRequested, siteNumber, {
    notificationId: randomUUID(),
    channel: 'email',
    template,
    locale,
    recipient: 'site-clinical-admin',
    params: { siteNumber, ...params },
  });
}

/** The `audit.recorded` entry every admin action publishes. */
export function auditEntry(
  registry: EventRegistry,
  siteNumber: string,
  actor: string,
  action: string,
  outcome: 'allowed' | 'denied' | 'failed',
): Envelope {
  return auditEvent(registry, siteNumber, { actor, action, target: `site/${siteNumber}/emr`, outcome });
}
