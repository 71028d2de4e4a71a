export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export interface FhirAnswer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** An OperationOutcome answer (no PHI in `diagnostics`). */
export function outcomeAnswer(
  status: number,
  code: string,
  diagnostics: string,
  expression?: string,
): FhirAnswer {
  return {
    status,
    body: {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code, diagnostics, ...(expression ? { expression: [expression] } : {}) }],
    },
  };
}
