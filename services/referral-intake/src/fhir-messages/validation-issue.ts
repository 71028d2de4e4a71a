import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

/** A FHIR R4 IssueType code (http://hl7.org/fhir/R4/valueset-issue-type.html). */
export type IssueType = OperationOutcomeIssue['code'];

/**
 * The named quirks of real senders that intake accepts with a warning (docs/referral-intake.md
 * lists each with where it was seen). Each warning carries its name in the OperationOutcome as
 * `issue.details.coding` of INTAKE_ISSUE_SYSTEM, so a sender (and a test) can tell them apart.
 */
export const QUIRKS = {
  'missing-full-url': 'a Bundle entry without fullUrl (its resource is found by Type/id)',
  'id-format': "a resource id outside R4's id alphabet [A-Za-z0-9-.]{1,64}",
  'unresolved-reference': 'a relative reference to a resource the sender did not include',
  'external-reference': 'an absolute reference to a resource outside the bundle',
  'encoded-profile-version': 'a URL-encoded version separator (%7C) in a profile canonical',
  'unknown-profile': 'a profile outside the eReferral and base FHIR namespaces',
  'legacy-event-system': 'a legacy spelling of the eReferral event code system',
  'legacy-code-system': 'a legacy code system URL (http://ehealthontario.ca/, http://hl7.org/fhir/v2|v3/)',
  'identifier-without-value': 'an identifier without a value',
  'item-without-answer': 'a questionnaire item without an answer or sub-items',
  'appointment-without-referral': 'an appointment that does not say which ServiceRequest it belongs to',
  'sender-invariant':
    'an R4 invariant the sender broke that does not stop routing (stored and served as received)',
  'fhir-structure': 'another R4 structural warning of the validator',
  'stale-status': 'a status message older than the state already recorded (stored, not applied)',
  'echoed-referral': 'a referral already held, sent again under a new MessageHeader (answered, not stored)',
} as const;

export type QuirkName = keyof typeof QUIRKS;

export const INTAKE_ISSUE_SYSTEM = 'https://cloudconnect.ca/fhir/CodeSystem/intake-issue';

/** One finding about an inbound bundle: where (a FHIRPath `expression`), what, and how bad. */
export interface ValidationIssue {
  severity: 'error' | 'warning' | 'information';
  /** FHIR IssueType code (structure, required, invalid, value, not-found, not-supported, too-costly, business-rule). */
  code: IssueType;
  diagnostics: string;
  expression: string;
  /** The named quirk, on every warning. */
  quirk?: QuirkName;
}

export function error(code: IssueType, expression: string, diagnostics: string): ValidationIssue {
  return { severity: 'error', code, expression, diagnostics };
}

export function warning(
  quirk: QuirkName,
  code: IssueType,
  expression: string,
  diagnostics: string,
): ValidationIssue {
  return { severity: 'warning', code, expression, diagnostics, quirk };
}

export function information(
  quirk: QuirkName,
  code: IssueType,
  expression: string,
  diagnostics: string,
): ValidationIssue {
  return { severity: 'information', code, expression, diagnostics, quirk };
}
