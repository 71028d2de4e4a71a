import type {
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceSearchParam,
} from '@medplum/fhirtypes';

/**
 * What the FHIR API serves, in one table: each resource type, its REST interactions, how else it
 * is reached (an `_include`, status back through `$process-message`), and so the SMART scopes a
 * client can be granted for it. The CapabilityStatement, the SMART configuration and the scope
 * parser are all derived from it: serving a new resource type is one entry here (plus its route).
 */
export interface ServedResource {
  type: CapabilityStatementRestResource['type'];
  /** REST interactions on /fhir/{type}. */
  interactions: readonly ('read' | 'search-type' | 'create')[];
  /** Read through another resource's search (e.g. `ServiceRequest:subject`). */
  includedBy?: string;
  /** Written by status-back messages to $process-message, with these SMART v2 letters. */
  statusBack?: readonly ('c' | 'u')[];
  searchInclude?: string[];
  searchParam?: Pick<CapabilityStatementRestResourceSearchParam, 'name' | 'type'>[];
  documentation?: string;
}

export const SERVED_RESOURCES: readonly ServedResource[] = [
  {
    type: 'ServiceRequest',
    interactions: ['read', 'search-type'],
    statusBack: ['u'],
    searchInclude: ['ServiceRequest:subject', 'ServiceRequest:requester'],
    searchParam: [
      { name: '_id', type: 'token' },
      { name: '_lastUpdated', type: 'date' },
      { name: 'identifier', type: 'token' },
      { name: 'status', type: 'token' },
      { name: 'patient', type: 'reference' },
      { name: 'authored', type: 'date' },
    ],
  },
  {
    type: 'Bundle',
    interactions: ['read'],
    documentation: 'the original message bundle of a referral (ServiceRequest.meta.source)',
  },
  {
    type: 'Patient',
    interactions: ['read'],
    includedBy: 'ServiceRequest:subject',
    documentation:
      "read: the patients of appointments synced from the EMR (ids from Appointment.participant); a referral's patient through ServiceRequest:subject",
  },
  { type: 'Practitioner', interactions: [], includedBy: 'ServiceRequest:requester' },
  { type: 'Task', interactions: [], statusBack: ['u'] },
  {
    type: 'Appointment',
    interactions: ['read', 'search-type'],
    statusBack: ['c', 'u'],
    searchInclude: ['Appointment:patient'],
    searchParam: [
      { name: '_id', type: 'token' },
      { name: '_lastUpdated', type: 'date' },
    ],
    documentation: "the appointments read by the site's EMR syncs (recent and full)",
  },
  {
    type: 'QuestionnaireResponse',
    interactions: ['create'],
    documentation: 'a completed form from the forms platform (POST, scope system/QuestionnaireResponse.c)',
  },
  {
    type: 'Encounter',
    interactions: ['create'],
    documentation:
      "a kiosk check-in (POST, status arrived, scope system/Encounter.c): marks the patient's appointments arrived",
  },
];

/** Resource types a client may hold scopes on (and `*`). */
export const SCOPE_RESOURCES: readonly string[] = ['*', ...SERVED_RESOURCES.map((r) => r.type)];

/** The SMART scopes a client can use here, v1 and v2 syntax, for the SMART configuration. */
export function supportedScopes(): string[] {
  return SERVED_RESOURCES.flatMap((r) => [
    ...(r.interactions.includes('read') || r.includedBy
      ? [`system/${r.type}.read`, `system/${r.type}.${r.interactions.includes('search-type') ? 'rs' : 'r'}`]
      : []),
    ...(r.interactions.includes('create') ? [`system/${r.type}.write`, `system/${r.type}.c`] : []),
    ...(r.statusBack
      ? [`system/${r.type}.write`, ...r.statusBack.map((letter) => `system/${r.type}.${letter}`)]
      : []),
  ]);
}
