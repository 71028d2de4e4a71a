import { FIXTURES } from '@cloud-connect/testing';
import { EVENTS, checkMessage } from './ereferral-rules';
import { multipassCheckMessage } from '../../test/multipass-rules';
import { mutate, parentOf, pathsOf, random } from '../../test/mutation-corpus';

/**
 * Differential test of the one-pass messaging and eReferral rules against the previous
 * implementation (several walks over the bundle, kept in `test/multipass-rules.ts`): over the
 * seeded mutation corpus of the structure checks, and over mutations aimed at the rules (event
 * codes and systems, focus and subject, keys that only look like `identifier`, `item` or
 * `eventCoding` in an expression, references into `contained`, missing fullUrls), every bundle
 * must give the same issues (codes, severities, expressions, texts, quirk names, in the same
 * order) and the same facts.
 */
type Json = Record<string, unknown>;

const CASES_PER_FIXTURE = 200;
const RULE_CASES_PER_FIXTURE = 200;

const TRICKY_KEYS = [
  'identifier',
  'x.identifier',
  'identifier[1]',
  'a.identifier[2]',
  'item',
  'a.item[0]',
  'item[3]',
  'eventCoding',
  'x.eventCoding',
  'contained',
  'reference',
  'system',
];

const SYSTEMS = [
  'http://hl7.org/fhir/v2/0203/',
  'http://ehealthontario.ca/fhir/CodeSystem/x',
  'http://hl7.org/fhir/v3/ActCode',
  'https://ehealthontario.ca/fhir/CodeSystem/message-event-code',
  'http://ehealthontario.ca/fhir/CodeSystem/message-event-code',
  'https://ehealthontario.ca/fhir/CodeSystem/eReferral-message-event-code',
  'http://example.org/unknown',
];

const REFERENCES = [
  'urn:uuid:not-in-the-bundle',
  'Patient/missing',
  'https://example.org/fhir/Patient/1',
  '#contained',
  'not a reference',
  'Organization/x/_history/2',
];

/** Mutations aimed at what the rules look at. */
function mutateRules(bundle: Json, next: () => number): Json {
  const copy = structuredClone(bundle);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const entries = copy['entry'] as Json[];
  const header = entries[0]?.['resource'] as Json | undefined;
  for (let n = next() < 0.6 ? 1 : 3; n > 0; n--) {
    const paths = pathsOf(copy);
    const path = pick(paths);
    const key = path[path.length - 1] as string | number;
    const parent = parentOf(copy, path);
    const value = parent[key];
    switch (Math.floor(next() * 10)) {
      case 0:
        if (header)
          header['eventCoding'] = { system: pick(SYSTEMS), code: pick([...Object.keys(EVENTS), 'x']) };
        break;
      case 1:
        // A subtree moved under a key that looks like another element in a FHIRPath expression.
        if (!Array.isArray(parent) && typeof value === 'object' && value !== null)
          parent[pick(TRICKY_KEYS)] = structuredClone(value);
        break;
      case 2:
        if (typeof value === 'object' && value !== null && !Array.isArray(value))
          (value as Json)['system'] = pick(SYSTEMS);
        break;
      case 3: {
        const references = paths.filter((p) => p[p.length - 1] === 'reference');
        const at = pick(references);
        if (at) parentOf(copy, at)['reference'] = pick(REFERENCES);
        break;
      }
      case 4: {
        const entry = pick(entries);
        if (entry) Reflect.deleteProperty(entry, 'fullUrl');
        break;
      }
      case 5:
        if (header) header['focus'] = pick([[], [{ reference: pick(REFERENCES) }], 'x', [{ display: 'd' }]]);
        break;
      case 6: {
        const resource = pick(entries)?.['resource'] as Json | undefined;
        if (resource) resource['contained'] = [structuredClone(entries[1]?.['resource'] ?? {})];
        break;
      }
      case 7: {
        const resource = pick(entries)?.['resource'] as Json | undefined;
        if (resource)
          resource['meta'] = {
            profile: pick([
              ['http://example.org/p'],
              ['http://hl7.org/fhir/StructureDefinition/x%7c1'],
              'x',
              [1],
            ]),
          };
        break;
      }
      case 8: {
        const resource = pick(entries)?.['resource'] as Json | undefined;
        if (resource) resource['id'] = pick(['has space', 'x'.repeat(65), 'ok-id', 7]);
        break;
      }
      default:
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else Reflect.deleteProperty(parent, key);
        break;
    }
  }
  return copy;
}

describe('messaging and eReferral rules in one pass, differential against the several-walk rules', () => {
  const counts = { withIssues: 0, rejected: 0, accepted: 0 };

  function same(bundle: Json): void {
    const expected = multipassCheckMessage(bundle);
    expect(checkMessage(bundle)).toEqual(expected);
    counts.withIssues += expected.issues.length > 0 ? 1 : 0;
    counts.rejected += expected.facts === null ? 1 : 0;
    counts.accepted += expected.facts !== null ? 1 : 0;
  }

  it.each(Object.entries(FIXTURES))(
    'gives the same issues and facts for %s and its mutations',
    (_name, make) => {
      const original = make();
      same(original);
      const next = random(JSON.stringify(original).length * 104729);
      for (let i = 0; i < CASES_PER_FIXTURE; i++) same(mutate(original, next));
      for (let i = 0; i < RULE_CASES_PER_FIXTURE; i++) same(mutateRules(original, next));
    },
  );

  it('exercised accepted and rejected bundles, many with issues', () => {
    const total = (CASES_PER_FIXTURE + RULE_CASES_PER_FIXTURE) * Object.keys(FIXTURES).length;
    expect(counts.accepted).toBeGreaterThan(total * 0.3);
    expect(counts.rejected).toBeGreaterThan(total * 0.1);
    expect(counts.withIssues).toBeGreaterThan(total * 0.5);
  });
});
