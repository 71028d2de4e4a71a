import { randomUUID } from 'node:crypto';
import type { Bundle, Coding, OperationOutcome } from '@medplum/fhirtypes';
import { INTAKE_ISSUE_SYSTEM, type IssueType, type ValidationIssue } from './validation-issue';

export function outcome(issues: ValidationIssue[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({
      severity: i.severity,
      code: i.code,
      diagnostics: i.diagnostics,
      ...(i.quirk ? { details: { coding: [{ system: INTAKE_ISSUE_SYSTEM, code: i.quirk }] } } : {}),
      expression: [i.expression],
    })),
  };
}

/**
 * An OperationOutcome about the request itself, optionally with where (a FHIRPath expression or
 * the name of a search parameter). No PHI in `diagnostics`.
 */
export function simpleOutcome(
  code: IssueType,
  diagnostics: string,
  severity: 'error' | 'fatal' = 'error',
  expression?: string,
): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity, code, diagnostics, ...(expression ? { expression: [expression] } : {}) }],
  };
}

/** What every FHIR endpoint (inbound messages and the pull API) answers. */
export interface FhirAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  retryAfterSeconds?: number;
}

/** An error answer with an OperationOutcome. */
export function outcomeAnswer(
  status: number,
  code: IssueType,
  diagnostics: string,
  expression?: string,
): FhirAnswer {
  return { status, body: simpleOutcome(code, diagnostics, 'error', expression) };
}

/**
 * The FHIR response message: a MessageHeader answering the request's (response.identifier = its
 * id, code ok) and, when there were warnings, an OperationOutcome it points to. No PHI in it.
 */
export function responseMessage(
  request: { messageHeaderId: string; eventCoding: Coding | undefined },
  warnings: ValidationIssue[],
): Bundle {
  const headerId = randomUUID();
  const outcomeId = randomUUID();
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    type: 'message',
    timestamp: new Date().toISOString(),
    entry: [
      {
        fullUrl: `urn:uuid:${headerId}`,
        resource: {
          resourceType: 'MessageHeader',
          id: headerId,
          eventCoding: request.eventCoding,
          source: { name: 'Cloud Connect referral intake', endpoint: 'urn:cloud-connect:referral-intake' },
          response: {
            identifier: request.messageHeaderId,
            code: 'ok',
            ...(warnings.length > 0 ? { details: { reference: `urn:uuid:${outcomeId}` } } : {}),
          },
        },
      },
      ...(warnings.length > 0
        ? [{ fullUrl: `urn:uuid:${outcomeId}`, resource: { ...outcome(warnings), id: outcomeId } }]
        : []),
    ],
  };
}
