import { createHash } from 'node:crypto';
import {
  REFERRAL_CREATING_EVENTS,
  checkEnvelope,
  checkLimits,
  checkMessage,
  type LimitOptions,
  type MessageFacts,
} from './ereferral-rules';
import { validateStructure } from './fhir-structure';
import { error, type ValidationIssue } from './validation-issue';

const MAX_REPORTED_ISSUES = 100;

export type InboundValidation =
  | {
      ok: true;
      bundle: Record<string, unknown>;
      facts: MessageFacts;
      warnings: ValidationIssue[];
      contentHash: Buffer;
    }
  | { ok: false; issues: ValidationIssue[] };

/**
 * The whole check of a posted body, cheapest first: JSON, size bounds, message envelope, FHIR R4
 * structure (all issues), then messaging and eReferral rules. Nothing here does I/O.
 */
export function validateInbound(raw: Buffer, limits: LimitOptions): InboundValidation {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, issues: [error('structure', 'Bundle', 'the body is not valid JSON')] };
  }
  const bounded = checkLimits(parsed, limits);
  if (bounded.length > 0) return { ok: false, issues: bounded };
  const envelope = checkEnvelope(parsed);
  if (envelope.length > 0) return { ok: false, issues: envelope };
  const bundle = parsed as Record<string, unknown>;
  const structure = validateStructure(bundle);
  const message = checkMessage(bundle);
  const issues = [...structure, ...message.issues];
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length > 0 || !message.facts) {
    return {
      ok: false,
      issues: [...errors, ...issues.filter((i) => i.severity !== 'error')].slice(0, MAX_REPORTED_ISSUES),
    };
  }
  return {
    ok: true,
    bundle,
    facts: message.facts,
    warnings: issues.slice(0, MAX_REPORTED_ISSUES),
    contentHash: contentHash(bundle),
  };
}

/**
 * What "the same message" means for idempotency: the entries (MessageHeader and content), not
 * Bundle.id/meta/timestamp, so a message re-wrapped or echoed back in a new Bundle is recognised.
 */
export function contentHash(bundle: Record<string, unknown>): Buffer {
  return createHash('sha256')
    .update(JSON.stringify(bundle['entry'] ?? []))
    .digest();
}

/**
 * The echo key of a referral-creating message: a hash of its ServiceRequest's identifiers
 * (system and value; the system names the source that assigned it). A copy of a referral we
 * delivered that comes back under a new Bundle and MessageHeader has the same key. Null for other
 * events and for a ServiceRequest without a full identifier.
 */
export function echoKey(bundle: Record<string, unknown>, facts: MessageFacts): Buffer | null {
  if (!REFERRAL_CREATING_EVENTS.includes(facts.eventCode) || facts.serviceRequestId === null) return null;
  const entries = Array.isArray(bundle['entry'])
    ? (bundle['entry'] as { resource?: Record<string, unknown> }[])
    : [];
  const sr = entries.find(
    (e) => e.resource?.['resourceType'] === 'ServiceRequest' && e.resource['id'] === facts.serviceRequestId,
  )?.resource;
  const identifiers = (Array.isArray(sr?.['identifier']) ? (sr['identifier'] as unknown[]) : [])
    .map((i) => (typeof i === 'object' && i !== null ? (i as Record<string, unknown>) : {}))
    .filter((i) => typeof i['system'] === 'string' && typeof i['value'] === 'string')
    .map((i) => `${String(i['system'])}|${String(i['value'])}`)
    .sort();
  if (identifiers.length === 0) return null;
  return createHash('sha256').update(JSON.stringify(identifiers)).digest();
}
