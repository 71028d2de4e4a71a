import {
  FIXTURES,
  addServiceRequestWithAttachment,
  addServiceRequestWithQuirks,
} from '@cloud-connect/testing';
import { validateInbound } from './inbound-validation';

const limits = { maxDepth: 40, maxArrayLength: 5000 };
const check = (body: unknown) =>
  validateInbound(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), limits);

function errorsOf(body: unknown): { expression: string; diagnostics: string }[] {
  const result = check(body);
  if (result.ok) throw new Error('expected a rejection');
  return result.issues.filter((i) => i.severity === 'error');
}

describe('inbound eReferral validation (FHIR R4 by @medplum/core, then messaging and eReferral rules)', () => {
  it.each(Object.entries(FIXTURES))('accepts the fixture "%s"', (_name, make) => {
    const result = check(make());
    if (!result.ok) throw new Error(JSON.stringify(result.issues, null, 2));
    expect(result.facts.eventCode).toBeTruthy();
    expect(result.facts.serviceRequestId).toBeTruthy();
  });

  it('reports the real-world quirks as warnings, not rejections', () => {
    const result = check(addServiceRequestWithQuirks());
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const text = result.warnings.map((w) => `${w.expression}: ${w.diagnostics}`).join('\n');
    expect(text).toMatch(/meta\.profile\[0\]: URL-encoded version separator/);
    expect(text).toMatch(/meta\.profile\[1\]: unknown profile/);
    expect(text).toMatch(/legacy code system URL/);
    expect(text).toMatch(/identifier\[1\]: identifier without a value/);
    expect(result.warnings.every((w) => w.severity === 'warning')).toBe(true);
  });

  it('warns about an unanswered questionnaire item', () => {
    const result = check(addServiceRequestWithAttachment());
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(
      result.warnings.some((w) => /item\[2\]$/.test(w.expression) && /without an answer/.test(w.diagnostics)),
    ).toBe(true);
  });

  it('has the same content hash for the same entries in a re-wrapped bundle, another for changed content', () => {
    const a = addServiceRequestWithQuirks();
    const rewrapped = { ...a, id: 'another-bundle-id', timestamp: '2026-11-21T00:00:00Z' };
    const changed = JSON.parse(JSON.stringify(a));
    changed.entry[1].resource.priority = 'urgent';
    const hash = (b: unknown) => (check(b) as { contentHash: Buffer }).contentHash.toString('hex');
    expect(hash(rewrapped)).toBe(hash(a));
    expect(hash(changed)).not.toBe(hash(a));
  });

  it.each([
    ['malformed JSON', '{"resourceType": "Bundle", ', 'Bundle', /not valid JSON/],
    ['JSON that is not a Bundle', { resourceType: 'Patient', id: 'p' }, 'Bundle', /must be a FHIR Bundle/],
    ['an array', [1, 2], 'Bundle', /must be a FHIR Bundle/],
  ])('rejects %s', (_name, body, expression, diagnostics) => {
    const [first] = errorsOf(body);
    expect(first?.expression).toBe(expression);
    expect(first?.diagnostics).toMatch(diagnostics);
  });

  it('rejects a transaction Bundle at Bundle.type', () => {
    const b = addServiceRequestWithQuirks();
    b['type'] = 'transaction';
    expect(errorsOf(b).map((e) => e.expression)).toContain('Bundle.type');
  });

  it('rejects a bundle with no MessageHeader, and one whose MessageHeader is not first', () => {
    const none = addServiceRequestWithQuirks();
    (none['entry'] as unknown[]).shift();
    expect(errorsOf(none)[0]?.diagnostics).toMatch(/starts with a MessageHeader/);
    const second = addServiceRequestWithQuirks();
    const entries = second['entry'] as unknown[];
    [entries[0], entries[1]] = [entries[1], entries[0]];
    expect(errorsOf(second)[0]).toEqual(expect.objectContaining({ expression: 'Bundle.entry[1].resource' }));
  });

  it('rejects a dangling reference the event needs (the subject) and says where', () => {
    const b = addServiceRequestWithQuirks() as { entry: { resource: Record<string, unknown> }[] };
    b.entry[1]!.resource['subject'] = { reference: 'Patient/not-in-bundle' };
    const errors = errorsOf(b);
    expect(errors).toContainEqual(
      expect.objectContaining({ expression: 'Bundle.entry[1].resource.subject' }),
    );
  });

  it('accepts a dangling relative reference the event does not need, with a named warning', () => {
    const b = addServiceRequestWithQuirks() as { entry: { resource: Record<string, unknown> }[] };
    b.entry[0]!.resource['sender'] = { reference: 'Organization/platform-only' };
    const checked = check(b);
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    expect(checked.warnings).toContainEqual(
      expect.objectContaining({
        quirk: 'unresolved-reference',
        expression: 'Bundle.entry[0].resource.sender.reference',
      }),
    );
  });

  it('rejects an unknown event code, and add-service-request whose subject is not a Patient', () => {
    const unknown = addServiceRequestWithQuirks() as { entry: { resource: Record<string, unknown> }[] };
    unknown.entry[0]!.resource['eventCoding'] = {
      system: 'https://ehealthontario.ca/fhir/CodeSystem/message-event-code',
      code: 'order-pizza',
    };
    expect(errorsOf(unknown)).toContainEqual(
      expect.objectContaining({ expression: 'Bundle.entry[0].resource.eventCoding.code' }),
    );
    const wrongSubject = addServiceRequestWithQuirks() as {
      entry: { resource: Record<string, unknown>; fullUrl: string }[];
    };
    wrongSubject.entry[1]!.resource['subject'] = { reference: wrongSubject.entry[3]!.fullUrl };
    expect(errorsOf(wrongSubject)).toContainEqual(
      expect.objectContaining({ expression: 'Bundle.entry[1].resource.subject' }),
    );
  });

  it('rejects what breaks FHIR R4 itself, naming every problem', () => {
    const b = addServiceRequestWithQuirks() as { entry: { resource: Record<string, unknown> }[] };
    b.entry[2]!.resource['birthDate'] = '1961-13-45';
    b.entry[1]!.resource['colour'] = 'blue';
    const expressions = errorsOf(b).map((e) => e.expression);
    expect(expressions).toEqual(
      expect.arrayContaining(['Bundle.entry[2].resource.birthDate', 'Bundle.entry[1].resource.colour']),
    );
  });

  it('rejects deep nesting and huge arrays before validating anything else', () => {
    const deep = `{"resourceType":"Bundle","nested":${'{"x":'.repeat(100000)}{}${'}'.repeat(100000)}}`;
    expect(errorsOf(deep)[0]?.diagnostics).toMatch(/nested deeper than 40/);
    const huge = { resourceType: 'Bundle', type: 'message', entry: Array.from({ length: 6000 }, () => ({})) };
    expect(errorsOf(huge)[0]).toEqual(
      expect.objectContaining({ expression: 'Bundle.entry', code: 'too-costly' }),
    );
  });
});
