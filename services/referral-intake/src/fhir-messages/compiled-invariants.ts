import type { Invariant } from './compiled-structure';

/**
 * JavaScript versions of the R4 invariants met in every eReferral bundle (Bundle, Bundle.entry,
 * QuestionnaireResponse.item, Appointment.participant), each used only when the definition's
 * FHIRPath is exactly the text below. A version may be stricter than the FHIRPath (answer false
 * where it is unsure, e.g. for document bundles): false only sends the bundle to the full
 * validator. It must never answer true where the FHIRPath does not; the differential test checks.
 */
type Json = Record<string, unknown>;

function fields(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function entries(bundle: Json): Json[] {
  return Array.isArray(bundle['entry']) ? (bundle['entry'] as unknown[]).map(fields) : [];
}

const BATCH_REQUEST = new Set(['batch', 'transaction', 'history']);
const BATCH_RESPONSE = new Set(['batch-response', 'transaction-response', 'history']);

/** Every entry has `field` exactly when the Bundle's type is one of `types`. */
function presentExactlyFor(bundle: Json, field: string, types: Set<string>): boolean {
  const type = bundle['type'];
  return (
    typeof type === 'string' && entries(bundle).every((e) => (e[field] !== undefined) === types.has(type))
  );
}

const INVARIANTS: Record<string, { expression: string; holds: (value: Json) => boolean }> = {
  'bdl-1': {
    expression: "total.empty() or (type = 'searchset') or (type = 'history')",
    holds: (b) => b['total'] === undefined || b['type'] === 'searchset' || b['type'] === 'history',
  },
  'bdl-2': {
    expression: "entry.search.empty() or (type = 'searchset')",
    holds: (b) => b['type'] === 'searchset' || entries(b).every((e) => e['search'] === undefined),
  },
  'bdl-3': {
    expression:
      "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or %resource.type = 'history'))",
    holds: (b) => presentExactlyFor(b, 'request', BATCH_REQUEST),
  },
  'bdl-4': {
    expression:
      "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = 'transaction-response' or %resource.type = 'history'))",
    holds: (b) => presentExactlyFor(b, 'response', BATCH_RESPONSE),
  },
  'bdl-7': {
    expression:
      "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()",
    holds: (b) => {
      if (b['type'] === 'history') return true;
      const seen = new Set<string>();
      for (const e of entries(b)) {
        if (typeof e['fullUrl'] !== 'string') continue;
        const version = fields(fields(e['resource'])['meta'])['versionId'];
        if (version !== undefined && typeof version !== 'string') return false;
        const key = `${e['fullUrl']}${version ?? ''}`;
        if (seen.has(key)) return false;
        seen.add(key);
      }
      return true;
    },
  },
  'bdl-9': {
    expression: "type = 'document' implies (identifier.system.exists() and identifier.value.exists())",
    holds: (b) => typeof b['type'] === 'string' && b['type'] !== 'document',
  },
  'bdl-10': {
    expression: "type = 'document' implies (timestamp.hasValue())",
    holds: (b) => typeof b['type'] === 'string' && b['type'] !== 'document',
  },
  'bdl-11': {
    expression: "type = 'document' implies entry.first().resource.is(Composition)",
    holds: (b) => typeof b['type'] === 'string' && b['type'] !== 'document',
  },
  'bdl-12': {
    expression: "type = 'message' implies entry.first().resource.is(MessageHeader)",
    holds: (b) =>
      typeof b['type'] === 'string' &&
      (b['type'] !== 'message' || fields(entries(b)[0]?.['resource'])['resourceType'] === 'MessageHeader'),
  },
  'bdl-5': {
    expression: 'resource.exists() or request.exists() or response.exists()',
    holds: (e) => e['resource'] !== undefined || e['request'] !== undefined || e['response'] !== undefined,
  },
  'bdl-8': {
    expression: "fullUrl.exists() implies fullUrl.contains('/_history/').not()",
    holds: (e) =>
      e['fullUrl'] === undefined ||
      (typeof e['fullUrl'] === 'string' && !e['fullUrl'].includes('/_history/')),
  },
  'qrs-1': {
    expression: '(answer.exists() and item.exists()).not()',
    holds: (i) => i['answer'] === undefined || i['item'] === undefined,
  },
  'app-1': {
    expression: 'type.exists() or actor.exists()',
    holds: (p) => p['type'] !== undefined || p['actor'] !== undefined,
  },
};

/** The JavaScript version of an invariant, when we have one for exactly this FHIRPath. */
export function compiledInvariant(key: string, expression: string): Invariant | undefined {
  const known = INVARIANTS[key];
  if (known?.expression !== expression) return undefined;
  return (typed) => known.holds(fields(typed.value));
}
