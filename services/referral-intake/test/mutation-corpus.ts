/**
 * A seeded corpus of mutations of the real eReferral fixtures (removed, retyped, emptied, nulled
 * and invented elements, wrong cardinalities, malformed primitives, references to the wrong type
 * or to nothing, other Bundle types, primitive extensions, duplicate choice types): the input of
 * the differential tests of intake's validation (`fhir-messages/*-equivalence.spec.ts`).
 */
type Json = Record<string, unknown>;
type Path = (string | number)[];

/** mulberry32: a small seeded generator, so every run checks the same corpus. */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pathsOf(value: unknown, path: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...path, i], out));
  else if (typeof value === 'object' && value !== null)
    for (const [k, v] of Object.entries(value)) {
      out.push([...path, k]);
      pathsOf(v, [...path, k], out);
    }
  return out;
}

export function parentOf(root: unknown, path: Path): Record<string | number, unknown> {
  let at = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  return at;
}

const ODD_VALUES: unknown[] = [
  '',
  ' ',
  null,
  0,
  1.5,
  -1,
  2147483648,
  true,
  [],
  {},
  [null],
  'x',
  'two  spaces',
  '2023-02-29',
  '2026-13-45',
  '2026-11-21T10:00:00',
  'urn:uuid:not-in-the-bundle',
  'Practitioner/someone',
  'Patient/1/_history/2',
  '#contained',
  'AAAA===',
  { reference: 'Practitioner/someone' },
  { reference: '' },
  { url: 'http://example.org/ext', valueString: 'v' },
  { url: 'http://example.org/ext' },
  [{ system: 'http://hl7.org/fhir/v3/ActCode', code: 'x' }],
];

const REFERENCE_TYPES = ['Patient', 'Practitioner', 'Organization', 'ServiceRequest', 'Group', 'Device'];

const BUNDLE_TYPES = ['document', 'history', 'batch', 'searchset', 'transaction', 'collection'];

export function mutate(bundle: Json, next: () => number): Json {
  const copy = structuredClone(bundle);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const times = next() < 0.7 ? 1 : 2;
  for (let n = 0; n < times; n++) {
    const paths = pathsOf(copy);
    const path = pick(paths);
    const key = path[path.length - 1] as string | number;
    const parent = parentOf(copy, path);
    const value = parent[key];
    switch (Math.floor(next() * 13)) {
      case 0:
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else Reflect.deleteProperty(parent, key);
        break;
      case 1:
      case 2:
        parent[key] = structuredClone(pick(ODD_VALUES));
        break;
      case 3:
        if (!Array.isArray(parent)) parent[`${String(key)}Extra`] = 'unexpected';
        break;
      case 4:
        parent[key] = Array.isArray(value) ? value[0] : [value];
        break;
      case 5:
        if (!Array.isArray(parent) && typeof key === 'string' && typeof value !== 'object')
          parent[`_${key}`] = { extension: [{ url: 'http://example.org/ext', valueBoolean: true }] };
        break;
      case 6:
        copy['type'] = pick(BUNDLE_TYPES);
        break;
      case 7: {
        const entries = copy['entry'] as Json[];
        const entry = pick(entries);
        if (entry) entry[pick(['request', 'response', 'search'])] = { method: 'POST', url: 'Patient' };
        break;
      }
      case 8:
        if (!Array.isArray(parent) && typeof value === 'string')
          parent[key] = pick([`${value} `, `${value}\u0001`, value.toUpperCase(), `${value}/_history/1`]);
        break;
      case 9: {
        const entries = copy['entry'] as { resource?: Json }[];
        const resource = pick(entries)?.resource;
        if (resource) resource['resourceType'] = pick(['Practitioner', 'Basic', 'NotAType', 'Bundle']);
        break;
      }
      case 10:
        if (!Array.isArray(parent) && typeof key === 'string' && /^value[A-Z]/.test(key))
          parent['valueBoolean'] = true;
        else copy['total'] = 3;
        break;
      case 11: {
        // A reference to another resource type (allowed by some elements, a warning for others).
        const references = paths.filter((p) => p[p.length - 1] === 'reference');
        const at = pick(references);
        if (at) parentOf(copy, at)['reference'] = `${pick(REFERENCE_TYPES)}/${Math.floor(next() * 100)}`;
        break;
      }
      default:
        // Values that stay valid: the corpus also needs bundles the compiled checks call clean.
        if (
          typeof value === 'string' &&
          !Array.isArray(parent) &&
          key !== 'resourceType' &&
          key !== 'reference'
        )
          parent[key] = `${value}-${Math.floor(next() * 1000)}`;
        break;
    }
  }
  return copy;
}
