/**
 * The messaging and eReferral rules as they were before they became one pass over the bundle
 * (one walk for the references, one or two for the quirks, the entries listed twice), kept
 * verbatim as the oracle of `ereferral-rules-equivalence.spec.ts`: the one-pass rules must report
 * exactly these issues, in this order. Test code only.
 */
import { EVENTS, EVENT_SYSTEM, FHIR_ID, type MessageFacts } from '../src/fhir-messages/ereferral-rules';
import { error, warning, type ValidationIssue } from '../src/fhir-messages/validation-issue';

const LEGACY_EVENT_SYSTEMS = new Set([
  'http://ehealthontario.ca/fhir/CodeSystem/message-event-code',
  'https://ehealthontario.ca/fhir/CodeSystem/eReferral-message-event-code',
  'http://ehealthontario.ca/fhir/CodeSystem/eReferral-message-event-code',
]);
const KNOWN_PROFILE_BASES = [
  'https://ehealthontario.ca/fhir/',
  'http://ehealthontario.ca/fhir/',
  'http://hl7.org/fhir/',
];
const RELATIVE_REFERENCE = /^[A-Z][A-Za-z]+\/[^/]{1,64}(\/_history\/[^/]+)?$/;
const LEGACY_SYSTEM_PREFIXES = [
  'http://ehealthontario.ca/',
  'http://hl7.org/fhir/v2/',
  'http://hl7.org/fhir/v3/',
];

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Entry {
  index: number;
  fullUrl: string | null;
  resource: Json;
}

function entriesOf(bundle: Json): Entry[] {
  const list = Array.isArray(bundle['entry']) ? bundle['entry'] : [];
  const out: Entry[] = [];
  list.forEach((entry, index) => {
    if (isObject(entry) && isObject(entry['resource'])) {
      out.push({
        index,
        fullUrl: typeof entry['fullUrl'] === 'string' ? entry['fullUrl'] : null,
        resource: entry['resource'],
      });
    }
  });
  return out;
}

/** Resolves a literal reference inside the bundle (fullUrl, or Type/id relative), per FHIR's bundle rules. */
function resolver(bundle: Json): (reference: string) => Entry | undefined {
  const byFullUrl = new Map<string, Entry>();
  const byTypeId = new Map<string, Entry>();
  for (const entry of entriesOf(bundle)) {
    if (entry.fullUrl) byFullUrl.set(entry.fullUrl, entry);
    const type = entry.resource['resourceType'];
    const id = entry.resource['id'];
    if (typeof type === 'string' && typeof id === 'string') byTypeId.set(`${type}/${id}`, entry);
  }
  return (reference) => {
    const direct = byFullUrl.get(reference);
    if (direct) return direct;
    // Any id characters: real senders use ids outside R4's alphabet (warned about, still resolved).
    const match = /(?:^|\/)([A-Z][A-Za-z]+\/[^/]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
    return match?.[1] ? byTypeId.get(match[1]) : undefined;
  };
}

/** Every `reference` string in a resource, with its FHIRPath-like location. */
function referencesIn(value: unknown, path: string, out: { path: string; reference: string }[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => referencesIn(item, `${path}[${i}]`, out));
  } else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'reference' && typeof child === 'string')
        out.push({ path: `${path}.reference`, reference: child });
      else if (key !== 'contained') referencesIn(child, `${path}.${key}`, out);
    }
  }
}

/**
 * FHIR messaging and eReferral rules on a Bundle that passed checkEnvelope: event code, focus,
 * references resolving inside the bundle, the essentials per event, and the real-world quirks
 * that are warnings, not rejections.
 */
export function multipassCheckMessage(bundle: Json): {
  issues: ValidationIssue[];
  facts: MessageFacts | null;
} {
  const issues: ValidationIssue[] = [];
  const resolve = resolver(bundle);
  const entries = entriesOf(bundle);
  const header = entries[0]?.resource ?? {};
  const at = 'Bundle.entry[0].resource';

  // Event code.
  const coding = isObject(header['eventCoding']) ? header['eventCoding'] : null;
  const system = typeof coding?.['system'] === 'string' ? coding['system'] : '';
  const code = typeof coding?.['code'] === 'string' ? coding['code'] : '';
  let event: (typeof EVENTS)[string] | undefined;
  if (!coding) {
    issues.push(
      error(
        'required',
        `${at}.eventCoding`,
        'the MessageHeader needs an eventCoding (eReferral events are codings)',
      ),
    );
  } else if (system !== EVENT_SYSTEM && !LEGACY_EVENT_SYSTEMS.has(system)) {
    issues.push(
      error(
        'not-supported',
        `${at}.eventCoding.system`,
        `unknown event code system; expected ${EVENT_SYSTEM}`,
      ),
    );
  } else {
    if (system !== EVENT_SYSTEM) {
      issues.push(
        warning(
          'legacy-event-system',
          'business-rule',
          `${at}.eventCoding.system`,
          `legacy event code system URL; the current one is ${EVENT_SYSTEM}`,
        ),
      );
    }
    event = EVENTS[code];
    if (!event)
      issues.push(error('not-supported', `${at}.eventCoding.code`, `unknown eReferral event code "${code}"`));
  }

  // Literal references: only what the event needs must resolve (the focus here, the subject
  // below); anything else R4 allows a sender to leave out is a warning.
  for (const entry of entries) {
    const refs: { path: string; reference: string }[] = [];
    referencesIn(entry.resource, `Bundle.entry[${entry.index}].resource`, refs);
    for (const { path, reference } of refs) {
      if (reference.startsWith('#') || resolve(reference)) continue;
      if (entry.index === 0 && path.includes('.focus[')) {
        issues.push(
          error('not-found', path, `reference "${reference}" does not resolve to an entry of the bundle`),
        );
      } else if (/^https?:\/\//.test(reference)) {
        issues.push(
          warning(
            'external-reference',
            'not-found',
            path,
            'absolute reference to a resource outside the bundle; not resolved',
          ),
        );
      } else if (RELATIVE_REFERENCE.test(reference)) {
        issues.push(
          warning(
            'unresolved-reference',
            'not-found',
            path,
            `${reference.split('/')[0] ?? 'the'} resource is not in the bundle; the reference is kept as sent`,
          ),
        );
      } else {
        // urn:uuid: (and other URIs) only name entries of this bundle: one that is missing is broken.
        issues.push(
          error('not-found', path, `reference "${reference}" does not resolve to an entry of the bundle`),
        );
      }
    }
  }

  // Focus and the essentials of the event.
  const focus = Array.isArray(header['focus']) ? header['focus'] : [];
  if (focus.length === 0) issues.push(error('required', `${at}.focus`, 'the MessageHeader needs a focus'));
  let serviceRequestId: string | null = null;
  if (event) {
    const focused = focus
      .map((f, i) => ({
        i,
        target: isObject(f) && typeof f['reference'] === 'string' ? resolve(f['reference']) : undefined,
      }))
      .filter((f) => f.target !== undefined);
    const wanted = event.focus;
    const main = focused.find(
      (f) => f.target !== undefined && wanted.includes(String(f.target.resource['resourceType'])),
    );
    if (!main) {
      issues.push(
        error(
          'business-rule',
          `${at}.focus`,
          `event "${code}" needs a focus on a ${event.focus.join(' or ')} in the bundle`,
        ),
      );
    } else {
      const target = main.target;
      if (!target) throw new Error('unreachable: focused entries are resolved');
      const resource = target.resource;
      const where = `Bundle.entry[${target.index}].resource`;
      if (resource['resourceType'] === 'ServiceRequest')
        serviceRequestId = typeof resource['id'] === 'string' ? resource['id'] : null;
      if (resource['resourceType'] === 'Task') {
        const target =
          isObject(resource['focus']) && typeof resource['focus']['reference'] === 'string'
            ? resolve(resource['focus']['reference'])
            : undefined;
        if (
          target?.resource['resourceType'] === 'ServiceRequest' &&
          typeof target.resource['id'] === 'string'
        )
          serviceRequestId = target.resource['id'];
      }
      if (resource['resourceType'] === 'Appointment') {
        const basedOn = Array.isArray(resource['basedOn']) ? resource['basedOn'] : [];
        const sr = basedOn
          .map((b) =>
            isObject(b) && typeof b['reference'] === 'string' ? resolve(b['reference']) : undefined,
          )
          .find((t) => t?.resource['resourceType'] === 'ServiceRequest');
        if (sr && typeof sr.resource['id'] === 'string') serviceRequestId = sr.resource['id'];
        else
          issues.push(
            warning(
              'appointment-without-referral',
              'business-rule',
              `${where}.basedOn`,
              'the appointment does not say which referral (ServiceRequest) it belongs to',
            ),
          );
      }
      if (event.patientSubject) {
        const subject =
          isObject(resource['subject']) && typeof resource['subject']['reference'] === 'string'
            ? resolve(resource['subject']['reference'])
            : undefined;
        if (subject?.resource['resourceType'] !== 'Patient') {
          issues.push(
            error(
              'business-rule',
              `${where}.subject`,
              `event "${code}": the ${String(resource['resourceType'])}'s subject must be a Patient in the bundle`,
            ),
          );
        }
      }
    }
  }

  issues.push(...quirks(entries));
  const hasError = issues.some((i) => i.severity === 'error');
  const facts: MessageFacts | null = hasError
    ? null
    : {
        bundleId: String(bundle['id']),
        messageHeaderId: String(header['id']),
        eventCode: code,
        serviceRequestId,
      };
  return { issues, facts };
}

/** Imperfections real senders have that FHIR R4 allows: reported as warnings. */
function quirks(entries: Entry[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const entry of entries) {
    const base = `Bundle.entry[${entry.index}].resource`;
    if (entry.fullUrl === null) {
      issues.push(
        warning(
          'missing-full-url',
          'value',
          `Bundle.entry[${entry.index}]`,
          'entry without fullUrl; its resource is referenced as Type/id',
        ),
      );
    }
    const id = entry.resource['id'];
    if (typeof id === 'string' && !FHIR_ID.test(id)) {
      issues.push(
        warning(
          'id-format',
          'value',
          `${base}.id`,
          "resource id outside R4's id alphabet [A-Za-z0-9-.]{1,64}; kept as sent",
        ),
      );
    }
    const meta = isObject(entry.resource['meta']) ? entry.resource['meta'] : null;
    const profiles = Array.isArray(meta?.['profile']) ? (meta['profile'] as unknown[]) : [];
    profiles.forEach((profile, i) => {
      if (typeof profile !== 'string') return;
      const path = `${base}.meta.profile[${i}]`;
      if (/%7c/i.test(profile)) {
        issues.push(
          warning(
            'encoded-profile-version',
            'value',
            path,
            'URL-encoded version separator (%7C) in a profile canonical; read as "|"',
          ),
        );
      }
      if (!KNOWN_PROFILE_BASES.some((b) => profile.startsWith(b))) {
        issues.push(
          warning(
            'unknown-profile',
            'not-supported',
            path,
            'unknown profile; validated against base FHIR R4',
          ),
        );
      }
    });
    walk(entry.resource, base, (value, path) => {
      if (
        typeof value['system'] === 'string' &&
        LEGACY_SYSTEM_PREFIXES.some((p) => (value['system'] as string).startsWith(p)) &&
        path.indexOf('.eventCoding') < 0
      ) {
        issues.push(warning('legacy-code-system', 'value', `${path}.system`, 'legacy code system URL'));
      }
      if (/\.identifier(\[\d+\])?$/.test(path) && value['value'] === undefined) {
        issues.push(warning('identifier-without-value', 'value', path, 'identifier without a value'));
      }
    });
    if (
      entry.resource['resourceType'] === 'ServiceRequest' &&
      entry.resource['orderDetail'] !== undefined &&
      entry.resource['code'] === undefined
    ) {
      issues.push(
        warning(
          'sender-invariant',
          'invariant',
          `${base}.orderDetail`,
          'prr-1: orderDetail SHALL only be present if code is present; stored and served as received',
        ),
      );
    }
    if (entry.resource['resourceType'] === 'QuestionnaireResponse') {
      walk(entry.resource, base, (value, path) => {
        if (/\.item\[\d+\]$/.test(path) && value['answer'] === undefined && value['item'] === undefined) {
          issues.push(
            warning('item-without-answer', 'required', path, 'questionnaire item without an answer'),
          );
        }
      });
    }
  }
  return issues;
}

function walk(value: unknown, path: string, visit: (obj: Json, path: string) => void): void {
  if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${path}[${i}]`, visit));
  else if (isObject(value)) {
    visit(value, path);
    for (const [key, child] of Object.entries(value)) walk(child, `${path}.${key}`, visit);
  }
}
