import { randomUUID } from 'node:crypto';
import type { ValidationIssue } from './validation-issue';

export interface OperationOutcomeBody {
  resourceType: 'OperationOutcome';
  issue: { severity: string; code: string; diagnostics: string; expression?: string[] }[];
}

export function outcome(issues: ValidationIssue[]): OperationOutcomeBody {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({
      severity: i.severity,
      code: i.code,
      diagnostics: i.diagnostics,
      expression: [i.expression],
    })),
  };
}

/** An OperationOutcome about the request itself (no location in the body). */
export function simpleOutcome(
  code: string,
  diagnostics: string,
  severity: 'error' | 'fatal' = 'error',
): OperationOutcomeBody {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics }] };
}

/**
 * The FHIR response message: a MessageHeader answering the request's (response.identifier = its
 * id, code ok) and, when there were warnings, an OperationOutcome it points to. No PHI in it.
 */
export function responseMessage(
  request: { messageHeaderId: string; eventCoding: unknown },
  warnings: ValidationIssue[],
): Record<string, unknown> {
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
