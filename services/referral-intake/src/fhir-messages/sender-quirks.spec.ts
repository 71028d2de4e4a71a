import { ACCEPTED_SENDER_BUNDLES, REJECTED_SENDER_BUNDLES, senderBundle } from '../../test/fixtures/senders';
import { validateInbound } from './inbound-validation';
import { outcome } from './operation-outcome';
import { INTAKE_ISSUE_SYSTEM, QUIRKS } from './validation-issue';

const LIMITS = { maxDepth: 40, maxArrayLength: 5000 };
const check = (bundle: unknown) => validateInbound(Buffer.from(JSON.stringify(bundle)), LIMITS);

describe("real senders' bundles", () => {
  it.each(ACCEPTED_SENDER_BUNDLES)('accepts $file with its named warnings', ({ file, quirks }) => {
    const checked = check(senderBundle(file));
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues.filter((i) => i.severity === 'error')));
    const found = new Set(checked.warnings.map((w) => w.quirk));
    for (const quirk of quirks) expect(found).toContain(quirk);
    // Every warning is named, and the name reaches the OperationOutcome.
    expect(checked.warnings.every((w) => w.quirk !== undefined && w.quirk in QUIRKS)).toBe(true);
    const issues = outcome(checked.warnings).issue;
    expect(issues?.map((i) => i.details?.coding?.[0])).toContainEqual({
      system: INTAKE_ISSUE_SYSTEM,
      code: quirks[0],
    });
  });

  it('names where each quirk is in the real Ocean bundle', () => {
    const checked = check(senderBundle('ocean-add-service-request.json'));
    if (!checked.ok) throw new Error('refused');
    const at = (quirk: string) => checked.warnings.filter((w) => w.quirk === quirk).map((w) => w.expression);
    expect(at('id-format')).toEqual(['Bundle.entry[6].resource.id']);
    expect(at('unresolved-reference')).toEqual(['Bundle.entry[0].resource.sender.reference']);
    expect(at('sender-invariant')).toEqual(['Bundle.entry[1].resource.orderDetail']);
    expect(at('missing-full-url')).toHaveLength(10);
    expect(checked.facts.serviceRequestId).toBe('36739a27-0a88-455f-a6c9-13eb45e02efc');
  });

  it('resolves Type/id references to ids outside the R4 alphabet', () => {
    const checked = check(senderBundle('ocean-add-service-request.json'));
    if (!checked.ok) throw new Error('refused');
    // The receiver PractitionerRole/bayshore_healthcare-73632721 is in the bundle: no warning about it.
    expect(
      checked.warnings.filter((w) => w.expression.startsWith('Bundle.entry[0].resource.destination')),
    ).toEqual([]);
  });

  it.each(REJECTED_SENDER_BUNDLES)('rejects $file at $expression', ({ file, expression }) => {
    const checked = check(senderBundle(file));
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    const errors = checked.issues.filter((i) => i.severity === 'error');
    expect(errors.map((e) => e.expression)).toContain(expression);
  });
});
