import { EVENTS } from '../fhir-messages/ereferral-rules';
import { echoKey, type InboundValidation } from '../fhir-messages/inbound-validation';
import { outcome, simpleOutcome, type FhirAnswer } from '../fhir-messages/operation-outcome';
import { STATUS_EVENTS, statusChangeOf, type StatusChange } from '../fhir-messages/status-change';
import { error, type IssueType } from '../fhir-messages/validation-issue';
import { allows } from '../oauth/scopes';
import type { Db } from '../integrations/integrations.repository';
import type { ApplyStatusChange } from '../status-updates/apply-status-change';
import type { Sender } from './sender';

export type AcceptedMessage = Extract<InboundValidation, { ok: true }>;

/** What a kind decided about an admitted message, before anything is stored. */
export interface Admission {
  serviceRequestId: string | null;
  echoKey: Buffer | null;
  /** A status change to apply in the transaction that stores the message. */
  statusChange: StatusChange | null;
  /** Publish `referral.received` (every message an integration posts; not OAuth status back). */
  publishReceived: boolean;
}

/**
 * A kind of inbound message: the events it covers, who may send it, and what it needs checked
 * (with the database, before anything is stored). ReceiveMessage runs every kind through the same
 * authenticate → throttle → validate → admit → encrypt → insert-if-new → apply → outbox path; a
 * new kind (e.g. a form response) is one more entry in MESSAGE_KINDS.
 */
export interface MessageKind {
  name: string;
  events: readonly string[];
  senders: readonly Sender['kind'][];
  admit(message: AcceptedMessage, sender: Sender, context: KindContext): Promise<Admission | FhirAnswer>;
}

export interface KindContext {
  db: Db;
  statusChanges: ApplyStatusChange;
}

const referralMessages: MessageKind = {
  name: 'referral',
  events: Object.keys(EVENTS).filter((event) => !Object.hasOwn(STATUS_EVENTS, event)),
  senders: ['integration'],
  admit: (message) =>
    Promise.resolve({
      serviceRequestId: message.facts.serviceRequestId,
      echoKey: echoKey(message.bundle, message.facts),
      statusChange: null,
      publishReceived: true,
    }),
};

const unprocessable = (expression: string, code: IssueType, diagnostics: string): FhirAnswer => ({
  status: 422,
  body: outcome([error(code, expression, diagnostics)]),
});
const forbidden = (diagnostics: string): FhirAnswer => ({
  status: 403,
  body: simpleOutcome('forbidden', diagnostics),
});

/**
 * Status back: `notify-update-status` and `notify-*-appointment` about a referral of the sender's
 * site. The role rule: only a receiver of the referral may change it (an OAuth client that pulls
 * the site's referrals, or an integration that gets copies of them); its sender may only cancel
 * or revoke it; anyone else of the site gets 403.
 */
const statusMessages: MessageKind = {
  name: 'status',
  events: Object.keys(STATUS_EVENTS),
  senders: ['integration', 'oauth-client'],
  async admit(message, sender, { db, statusChanges }) {
    const found = statusChangeOf(message.bundle, message.facts.eventCode);
    if (!found) throw new Error('unreachable: status events always yield a change or issues');
    const byClient = sender.kind === 'oauth-client';
    if ('issues' in found) {
      // An integration's message that says no applicable change is stored as received.
      if (!byClient)
        return {
          serviceRequestId: message.facts.serviceRequestId,
          echoKey: null,
          statusChange: null,
          publishReceived: true,
        };
      return { status: 422, body: outcome(found.issues) };
    }
    const change = found.change;
    if (byClient) {
      // The scope on the resource the message changes: the Appointment, the Task, or the ServiceRequest.
      const resource =
        change.kind === 'appointment'
          ? 'Appointment'
          : change.taskStatus !== undefined
            ? 'Task'
            : 'ServiceRequest';
      const permission = message.facts.eventCode === 'notify-add-appointment' ? 'c' : 'u';
      if (!allows(sender.scopes, resource, permission))
        return forbidden(`the access token lacks the scope system/${resource}.${permission} (or .write)`);
    }
    const serviceRequestId = change.serviceRequestId;
    const origin =
      serviceRequestId === null
        ? null
        : await statusChanges.referralOrigin(db, sender.site, serviceRequestId);
    if (!origin) {
      // An integration's message about a referral the site does not hold is stored, not applied.
      if (!byClient) return { serviceRequestId, echoKey: null, statusChange: null, publishReceived: true };
      if (serviceRequestId === null) {
        return unprocessable(
          'Bundle.entry.resource.basedOn',
          'business-rule',
          'the appointment must be basedOn the referral (a ServiceRequest) it books',
        );
      }
      // Another site's referral and no referral at all answer alike: nothing about other sites leaks.
      return unprocessable(
        'Bundle.entry.resource',
        'not-found',
        `ServiceRequest/${serviceRequestId} is not a referral of this site`,
      );
    }
    const refusal = roleRefusal(sender, origin, change);
    if (refusal) return refusal;
    return { serviceRequestId, echoKey: null, statusChange: change, publishReceived: !byClient };
  },
};

/** The role rule for status back (see statusMessages); null when the sender may make the change. */
export function roleRefusal(
  sender: Sender,
  origin: { integrationId: string | null },
  change: StatusChange,
): FhirAnswer | null {
  const cancels = change.kind === 'referral-status' && change.status === 'revoked';
  if (sender.kind === 'integration' && sender.id === origin.integrationId) {
    return cancels
      ? null
      : forbidden("the referral's sender may only cancel or revoke it; its receiver changes its status");
  }
  const receiver =
    sender.kind === 'integration' ? sender.receivesCopies : allows(sender.scopes, 'ServiceRequest', 'r');
  return receiver
    ? null
    : forbidden(
        'only a receiver of the referral (an integration that gets copies of referrals, or a client that reads them) may change its status',
      );
}

export const MESSAGE_KINDS: readonly MessageKind[] = [referralMessages, statusMessages];

export function kindOf(eventCode: string): MessageKind | undefined {
  return MESSAGE_KINDS.find((kind) => kind.events.includes(eventCode));
}
