/** One finding about an inbound bundle: where (a FHIRPath `expression`), what, and how bad. */
export interface ValidationIssue {
  severity: 'error' | 'warning' | 'information';
  /** FHIR IssueType code (structure, required, invalid, value, not-found, not-supported, too-costly, business-rule). */
  code: string;
  diagnostics: string;
  expression: string;
}

export function error(code: string, expression: string, diagnostics: string): ValidationIssue {
  return { severity: 'error', code, expression, diagnostics };
}

export function warning(code: string, expression: string, diagnostics: string): ValidationIssue {
  return { severity: 'warning', code, expression, diagnostics };
}

export function information(code: string, expression: string, diagnostics: string): ValidationIssue {
  return { severity: 'information', code, expression, diagnostics };
}
