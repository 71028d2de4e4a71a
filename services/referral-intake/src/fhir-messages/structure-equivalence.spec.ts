import { FIXTURES } from '@cloud-connect/testing';
import { isClean } from './compiled-structure';
import { fullValidation, loadFhirDefinitions, validateStructure } from './fhir-structure';
import { validateInbound } from './inbound-validation';
import { mutate, random } from '../../test/mutation-corpus';

/**
 * Differential test of the compiled R4 structure checks against @medplum/core's full validator:
 * a bounded, seeded corpus of mutations of the real eReferral fixtures (removed, retyped, emptied,
 * nulled and invented elements, wrong cardinalities, malformed primitives, references to the
 * wrong type, other Bundle types, primitive extensions, duplicate choice types). For every one,
 * the structure issues (accept/reject, severities, expressions, texts) must be the same, and a
 * bundle the compiled checks call clean must have no issue at all for the full validator.
 */
const CASES_PER_FIXTURE = 200;

describe('compiled R4 structure checks, differential against @medplum/core over a fuzz corpus', () => {
  const counts = { clean: 0, issues: 0, rejected: 0 };
  beforeAll(loadFhirDefinitions, 60_000);

  it.each(Object.entries(FIXTURES))(
    'gives the same issues for %s and its mutations',
    (_name, make) => {
      const original = make();
      expect(isClean(original)).toBe(true);
      const next = random(JSON.stringify(original).length * 7919);
      for (let i = 0; i < CASES_PER_FIXTURE; i++) {
        const bundle = mutate(original, next);
        const expected = fullValidation(bundle);
        const clean = isClean(bundle);
        if (clean && expected.length > 0)
          throw new Error(
            `called clean, but the full validator finds ${JSON.stringify(expected)} in ${JSON.stringify(bundle)}`,
          );
        expect(validateStructure(bundle)).toEqual(expected);
        counts.clean += clean ? 1 : 0;
        counts.issues += expected.length > 0 ? 1 : 0;
        counts.rejected += expected.some((e) => e.severity === 'error') ? 1 : 0;
      }
    },
    120_000,
  );

  it('exercised both paths: many mutations clean, many with issues', () => {
    const total = CASES_PER_FIXTURE * Object.keys(FIXTURES).length;
    expect(counts.clean).toBeGreaterThan(total * 0.15);
    expect(counts.rejected).toBeGreaterThan(total * 0.3);
  });

  it('gives the same answer for the whole inbound check of every fixture', () => {
    for (const make of Object.values(FIXTURES)) {
      const result = validateInbound(Buffer.from(JSON.stringify(make())), {
        maxDepth: 40,
        maxArrayLength: 5000,
      });
      expect(result.ok).toBe(true);
    }
  });
});
