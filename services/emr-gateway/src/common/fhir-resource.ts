import type { ExtractResource, Resource, ResourceType } from '@medplum/fhirtypes';

/**
 * Narrows JSON from outside the gateway (an EMR's answer, a message read back from intake) to the
 * FHIR R4 resource its `resourceType` names. It checks the discriminator only: the fields are then
 * read as optional, as any FHIR reader must.
 */
export function isResource<K extends ResourceType>(value: unknown, type: K): value is ExtractResource<K> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    (value as Partial<Resource>).resourceType === type
  );
}

/** Any FHIR resource: an object with a `resourceType`. */
export function isAnyResource(value: unknown): value is Resource {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as Partial<Resource>).resourceType === 'string'
  );
}
