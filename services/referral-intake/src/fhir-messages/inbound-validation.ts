import { createHash } from 'node:crypto';
import type { Bundle } from '@medplum/fhirtypes';
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
      /** The posted bundle, typed from here on: the R4 structure check found no error in it. */
      bundle: Bundle;
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
  const json = parsed as Record<string, unknown>;
  const structure = validateStructure(json);
  const message = checkMessage(json);
  const issues = [...structure, ...message.issues];
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length > 0 || !message.facts) {
    return {
      ok: false,
      issues: [...errors, ...issues.filter((i) => i.severity !== 'error')].slice(0, MAX_REPORTED_ISSUES),
    };
  }
  if (!isR4Bundle(json, errors)) throw new Error('unreachable: the envelope check found a Bundle');
  return {
    ok: true,
    bundle: json,
    facts: message.facts,
    warnings: issues.slice(0, MAX_REPORTED_ISSUES),
    contentHash: contentHash(json),
  };
}

/**
 * The one place a posted body becomes a typed R4 Bundle: its envelope holds (a Bundle with its
 * MessageHeader first) and the R4 structure check (the compiled one, or @medplum/core's validator
 * behind it) found no error in it.
 */
function isR4Bundle(
  json: Record<string, unknown>,
  errors: ValidationIssue[],
): json is Record<string, unknown> & Bundle {
  return errors.length === 0 && json['resourceType'] === 'Bundle';
}

/**
 * What "the same message" means for idempotency: the entries (MessageHeader and content), not
 * Bundle.id/meta/timestamp, so a message re-wrapped or echoed back in a new Bundle is recognised.
 */
export function contentHash(bundle: Bundle): Buffer {
  return createHash('sha256')
    .update(JSON.stringify(bundle.entry ?? []))
    .digest();
}

/**
 * The echo key of a referral-creating message: a hash of its ServiceRequest's identifiers
 * (system and value; the system names the source that assigned it). A copy of a referral we
 * delivered that comes back under a new Bundle and MessageHeader has the same key. Null for other
 * events and for a ServiceRequest without a full identifier.
 */
export function echoKey(bundle: Bundle, facts: MessageFacts): Buffer | null {
  if (!REFERRAL_CREATING_EVENTS.includes(facts.eventCode) || facts.serviceRequestId === null) return null;
  const sr = bundle.entry?.find(
    (e) => e.resource?.resourceType === 'ServiceRequest' && e.resource.id === facts.serviceRequestId,
  )?.resource;
  const identifiers = (sr?.resourceType === 'ServiceRequest' ? (sr.identifier ?? []) : [])
    .flatMap((i) => (i.system !== undefined && i.value !== undefined ? [`${i.system}|${i.value}`] : []))
    .sort();
  if (identifiers.length === 0) return null;
  return createHash('sha256').update(JSON.stringify(identifiers)).digest();
}
