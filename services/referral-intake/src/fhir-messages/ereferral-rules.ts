import type { Bundle, Resource } from '@medplum/fhirtypes';
import { error, warning, type ValidationIssue } from './validation-issue';

export const EVENT_SYSTEM = 'https://ehealthontario.ca/fhir/CodeSystem/message-event-code';

/** Spellings of the event system older senders still use: accepted, with a warning. */
const LEGACY_EVENT_SYSTEMS = new Set([
  'http://ehealthontario.ca/fhir/CodeSystem/message-event-code',
  'https://ehealthontario.ca/fhir/CodeSystem/eReferral-message-event-code',
  'http://ehealthontario.ca/fhir/CodeSystem/eReferral-message-event-code',
]);

/**
 * Our reading of the Ontario eReferral message IG (v0.11.1): per event, the resource type the
 * MessageHeader's focus must include, and whether that resource's subject must be a Patient in
 * the bundle. Unknown events are rejected: we cannot route them.
 */
export const EVENTS: Record<string, { focus: readonly string[]; patientSubject: boolean }> = {
  'add-service-request': { focus: ['ServiceRequest'], patientSubject: true },
  'update-service-request': { focus: ['ServiceRequest'], patientSubject: true },
  'revoke-service-request': { focus: ['ServiceRequest'], patientSubject: false },
  'notify-add-service-request': { focus: ['ServiceRequest'], patientSubject: true },
  'notify-update-service-request': { focus: ['ServiceRequest'], patientSubject: true },
  'notify-revoke-service-request': { focus: ['ServiceRequest'], patientSubject: false },
  'notify-add-appointment': { focus: ['Appointment'], patientSubject: false },
  'notify-update-appointment': { focus: ['Appointment'], patientSubject: false },
  'notify-revoke-appointment': { focus: ['Appointment'], patientSubject: false },
  'notify-update-status': { focus: ['Task', 'ServiceRequest'], patientSubject: false },
};

/** Events whose bundle carries the ServiceRequest itself (its newest such message is its current version). */
export const SERVICE_REQUEST_EVENTS = [
  'add-service-request',
  'notify-add-service-request',
  'notify-update-service-request',
  'notify-revoke-service-request',
];

/** Events that create a referral: a second one for the same ServiceRequest identifier is an echo. */
export const REFERRAL_CREATING_EVENTS = ['add-service-request', 'notify-add-service-request'];

const KNOWN_PROFILE_BASES = [
  'https://ehealthontario.ca/fhir/',
  'http://ehealthontario.ca/fhir/',
  'http://hl7.org/fhir/',
];
/** R4's id alphabet (http://hl7.org/fhir/R4/datatypes.html#id). */
export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
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

export interface MessageFacts {
  bundleId: string;
  messageHeaderId: string;
  eventCode: string;
  /** Id of the ServiceRequest the message is about (focus, or the Task's focus), if any. */
  serviceRequestId: string | null;
}

export interface LimitOptions {
  maxDepth: number;
  maxArrayLength: number;
}

/**
 * Bounds checked before anything else looks at the document (iteratively: no recursion a
 * hostile document could overflow): nesting depth and array lengths.
 */
export function checkLimits(root: unknown, limits: LimitOptions): ValidationIssue[] {
  const stack: { value: unknown; depth: number; path: string }[] = [
    { value: root, depth: 0, path: 'Bundle' },
  ];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, depth, path } = item;
    if (depth > limits.maxDepth) {
      return [error('too-costly', path, `the document is nested deeper than ${limits.maxDepth} levels`)];
    }
    if (Array.isArray(value)) {
      if (value.length > limits.maxArrayLength) {
        return [
          error(
            'too-costly',
            path,
            `an array has ${value.length} items; at most ${limits.maxArrayLength} are accepted`,
          ),
        ];
      }
      value.forEach((item, i) => stack.push({ value: item, depth: depth + 1, path: `${path}[${i}]` }));
    } else if (isObject(value)) {
      for (const [key, child] of Object.entries(value))
        stack.push({ value: child, depth: depth + 1, path: `${path}.${key}` });
    }
  }
  return [];
}

/** The envelope: a message Bundle with a MessageHeader first, and the ids idempotency needs. */
export function checkEnvelope(root: unknown): ValidationIssue[] {
  if (!isObject(root) || root['resourceType'] !== 'Bundle') {
    return [error('structure', 'Bundle', 'the body must be a FHIR Bundle (resourceType "Bundle")')];
  }
  const issues: ValidationIssue[] = [];
  if (root['type'] !== 'message') {
    issues.push(
      error(
        'invalid',
        'Bundle.type',
        `Bundle.type must be "message" (got ${JSON.stringify(root['type'] ?? null)})`,
      ),
    );
  }
  if (typeof root['id'] !== 'string' || root['id'].length === 0) {
    issues.push(
      error('required', 'Bundle.id', 'a message Bundle needs an id (it makes re-sends idempotent)'),
    );
  }
  const entries: unknown[] = Array.isArray(root['entry']) ? (root['entry'] as unknown[]) : [];
  const first = entries[0];
  const firstResource = isObject(first) ? first['resource'] : undefined;
  if (!isObject(firstResource) || firstResource['resourceType'] !== 'MessageHeader') {
    const at = entries.findIndex(
      (e) => isObject(e) && isObject(e['resource']) && e['resource']['resourceType'] === 'MessageHeader',
    );
    issues.push(
      at > 0
        ? error(
            'invalid',
            `Bundle.entry[${at}].resource`,
            'the MessageHeader must be the first entry of a message Bundle',
          )
        : error(
            'required',
            'Bundle.entry[0].resource',
            'a message Bundle starts with a MessageHeader; there is none',
          ),
    );
  } else if (typeof firstResource['id'] !== 'string' || firstResource['id'].length === 0) {
    issues.push(error('required', 'Bundle.entry[0].resource.id', 'the MessageHeader needs an id'));
  }
  return issues;
}

/** An entry of a bundle: where it is, its fullUrl, its resource (raw JSON, or typed once validated). */
export interface Entry<R = Json> {
  index: number;
  fullUrl: string | null;
  resource: R;
}

/** The entries of a bundle, listed and indexed once: by position, by fullUrl and by Type/id. */
export class BundleIndex<R = Json> {
  private readonly byFullUrl = new Map<string, Entry<R>>();
  private readonly byTypeId = new Map<string, Entry<R>>();

  private constructor(
    readonly entries: Entry<R>[],
    typeId: (resource: R) => string | null,
  ) {
    for (const entry of entries) {
      if (entry.fullUrl) this.byFullUrl.set(entry.fullUrl, entry);
      const key = typeId(entry.resource);
      if (key !== null) this.byTypeId.set(key, entry);
    }
  }

  /** A posted bundle not validated yet (what the rules see): entries without a resource object are skipped. */
  static raw(bundle: Json): BundleIndex {
    const list = Array.isArray(bundle['entry']) ? (bundle['entry'] as unknown[]) : [];
    const entries: Entry[] = [];
    list.forEach((item, index) => {
      if (isObject(item) && isObject(item['resource']))
        entries.push({
          index,
          fullUrl: typeof item['fullUrl'] === 'string' ? item['fullUrl'] : null,
          resource: item['resource'],
        });
    });
    return new BundleIndex(entries, (resource) => {
      const type = resource['resourceType'];
      const id = resource['id'];
      return typeof type === 'string' && typeof id === 'string' ? `${type}/${id}` : null;
    });
  }

  /** A validated R4 bundle. */
  static of(bundle: Bundle): BundleIndex<Resource> {
    const entries: Entry<Resource>[] = [];
    (bundle.entry ?? []).forEach((entry, index) => {
      if (entry.resource) entries.push({ index, fullUrl: entry.fullUrl ?? null, resource: entry.resource });
    });
    return new BundleIndex(entries, (resource) =>
      resource.id === undefined ? null : `${resource.resourceType}/${resource.id}`,
    );
  }

  /** Resolves a literal reference inside the bundle (fullUrl, or Type/id relative), per FHIR's bundle rules. */
  resolve(reference: string): Entry<R> | undefined {
    const direct = this.byFullUrl.get(reference);
    if (direct) return direct;
    // Any id characters: real senders use ids outside R4's alphabet (warned about, still resolved).
    const match = /(?:^|\/)([A-Z][A-Za-z]+\/[^/]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
    return match?.[1] ? this.byTypeId.get(match[1]) : undefined;
  }

  /** The entry a Reference (`{reference}`) points to, if it is one and resolves. */
  target(value: unknown): Entry<R> | undefined {
    return isObject(value) && typeof value['reference'] === 'string'
      ? this.resolve(value['reference'])
      : undefined;
  }
}

/**
 * What one walk over an entry's resource finds, each list in document order: the references
 * that do not resolve (outside `contained`), and the quirks found on the way.
 */
interface EntryFindings {
  references: ValidationIssue[];
  /** legacy-code-system and identifier-without-value. */
  codings: ValidationIssue[];
  /** item-without-answer (QuestionnaireResponse only). */
  items: ValidationIssue[];
}

/**
 * Where a value sits, in the terms of the expression-based rules: the segments of its FHIRPath-like
 * expression (joined only when an issue needs it), and facts about that expression's end.
 */
interface Place {
  /** The expression ends with `.identifier` or `.identifier[n]`. */
  identifier: boolean;
  /** The expression ends with `.identifier` (so its array items end with `.identifier[n]`). */
  identifierArray: boolean;
  /** The expression ends with `.item[n]`. */
  item: boolean;
  /** The expression ends with `.item`. */
  itemArray: boolean;
  /** The expression contains `.eventCoding`. */
  eventCoding: boolean;
  /** Inside a `contained` element (its references are not the bundle's). */
  contained: boolean;
}

const ROOT: Place = {
  identifier: false,
  identifierArray: false,
  item: false,
  itemArray: false,
  eventCoding: false,
  contained: false,
};

const IDENTIFIER_ITEM = /\.identifier\[\d+\]$/;
const ITEM_ITEM = /\.item\[\d+\]$/;

/** The place of `parent.key` (a segment `.key`: only its own text can end the expression). */
function keyPlace(parent: Place, key: string): Place {
  const segment = `.${key}`;
  const identifierArray = segment.endsWith('.identifier');
  const bracket = key.includes('[');
  return {
    identifier: identifierArray || (bracket && IDENTIFIER_ITEM.test(segment)),
    identifierArray,
    item: bracket && ITEM_ITEM.test(segment),
    itemArray: segment.endsWith('.item'),
    eventCoding: parent.eventCoding || segment.includes('.eventCoding'),
    contained: parent.contained || key === 'contained',
  };
}

/** The place of `parent[i]`. */
function indexPlace(parent: Place): Place {
  return {
    identifier: parent.identifierArray,
    identifierArray: false,
    item: parent.itemArray,
    itemArray: false,
    eventCoding: parent.eventCoding,
    contained: parent.contained,
  };
}

/** One walk over an entry's resource: references checked against the index, quirks collected. */
function walkEntry(entry: Entry, index: BundleIndex): EntryFindings {
  const found: EntryFindings = { references: [], codings: [], items: [] };
  const questionnaire = entry.resource['resourceType'] === 'QuestionnaireResponse';
  const segments = [`Bundle.entry[${entry.index}].resource`];
  const expression = () => segments.join('');
  const visit = (value: unknown, place: Place): void => {
    if (Array.isArray(value)) {
      const inner = indexPlace(place);
      value.forEach((item: unknown, i) => {
        segments.push(`[${i}]`);
        visit(item, inner);
        segments.pop();
      });
      return;
    }
    if (!isObject(value)) return;
    const system = value['system'];
    if (
      typeof system === 'string' &&
      !place.eventCoding &&
      LEGACY_SYSTEM_PREFIXES.some((p) => system.startsWith(p))
    ) {
      found.codings.push(
        warning('legacy-code-system', 'value', `${expression()}.system`, 'legacy code system URL'),
      );
    }
    if (place.identifier && value['value'] === undefined) {
      found.codings.push(
        warning('identifier-without-value', 'value', expression(), 'identifier without a value'),
      );
    }
    if (questionnaire && place.item && value['answer'] === undefined && value['item'] === undefined) {
      found.items.push(
        warning('item-without-answer', 'required', expression(), 'questionnaire item without an answer'),
      );
    }
    for (const key in value) {
      const child = value[key];
      if (key === 'reference' && typeof child === 'string') {
        if (!place.contained) checkReference(entry, `${expression()}.reference`, child, index, found);
        continue;
      }
      if (typeof child !== 'object' || child === null) continue;
      segments.push(`.${key}`);
      visit(child, keyPlace(place, key));
      segments.pop();
    }
  };
  visit(entry.resource, ROOT);
  return found;
}

/**
 * Literal references: only what the event needs must resolve (the focus here, the subject in
 * checkMessage); anything else R4 allows a sender to leave out is a warning.
 */
function checkReference(
  entry: Entry,
  path: string,
  reference: string,
  index: BundleIndex,
  found: EntryFindings,
): void {
  if (reference.startsWith('#') || index.resolve(reference)) return;
  if (entry.index === 0 && path.includes('.focus[')) {
    found.references.push(
      error('not-found', path, `reference "${reference}" does not resolve to an entry of the bundle`),
    );
  } else if (/^https?:\/\//.test(reference)) {
    found.references.push(
      warning(
        'external-reference',
        'not-found',
        path,
        'absolute reference to a resource outside the bundle; not resolved',
      ),
    );
  } else if (RELATIVE_REFERENCE.test(reference)) {
    found.references.push(
      warning(
        'unresolved-reference',
        'not-found',
        path,
        `${reference.split('/')[0] ?? 'the'} resource is not in the bundle; the reference is kept as sent`,
      ),
    );
  } else {
    // urn:uuid: (and other URIs) only name entries of this bundle: one that is missing is broken.
    found.references.push(
      error('not-found', path, `reference "${reference}" does not resolve to an entry of the bundle`),
    );
  }
}

/**
 * FHIR messaging and eReferral rules on a Bundle that passed checkEnvelope: event code, focus,
 * references resolving inside the bundle, the essentials per event, and the real-world quirks
 * that are warnings, not rejections. One pass: the entries are indexed once and each resource is
 * walked once (references and quirks together); the event's rules then only look entries up.
 */
export function checkMessage(bundle: Json): { issues: ValidationIssue[]; facts: MessageFacts | null } {
  const index = BundleIndex.raw(bundle);
  const findings = index.entries.map((entry) => walkEntry(entry, index));
  const header = index.entries[0]?.resource ?? {};
  const { issues, code, event } = checkEvent(header);
  for (const found of findings) issues.push(...found.references);
  const focus = Array.isArray(header['focus']) ? (header['focus'] as unknown[]) : [];
  if (focus.length === 0)
    issues.push(error('required', `${HEADER}.focus`, 'the MessageHeader needs a focus'));
  const serviceRequestId = event ? checkFocus(focus, code, event, index, issues) : null;
  index.entries.forEach((entry, i) => {
    const found = findings[i];
    if (found) issues.push(...quirks(entry, found));
  });
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

const HEADER = 'Bundle.entry[0].resource';

type EventRule = (typeof EVENTS)[string];

/** The event coding: a known system (legacy spellings warned about) and a known event code. */
function checkEvent(header: Json): { issues: ValidationIssue[]; code: string; event?: EventRule } {
  const coding = isObject(header['eventCoding']) ? header['eventCoding'] : null;
  const system = typeof coding?.['system'] === 'string' ? coding['system'] : '';
  const code = typeof coding?.['code'] === 'string' ? coding['code'] : '';
  if (!coding) {
    return {
      code,
      issues: [
        error(
          'required',
          `${HEADER}.eventCoding`,
          'the MessageHeader needs an eventCoding (eReferral events are codings)',
        ),
      ],
    };
  }
  if (system !== EVENT_SYSTEM && !LEGACY_EVENT_SYSTEMS.has(system)) {
    return {
      code,
      issues: [
        error(
          'not-supported',
          `${HEADER}.eventCoding.system`,
          `unknown event code system; expected ${EVENT_SYSTEM}`,
        ),
      ],
    };
  }
  const issues: ValidationIssue[] = [];
  if (system !== EVENT_SYSTEM) {
    issues.push(
      warning(
        'legacy-event-system',
        'business-rule',
        `${HEADER}.eventCoding.system`,
        `legacy event code system URL; the current one is ${EVENT_SYSTEM}`,
      ),
    );
  }
  const event = EVENTS[code];
  if (!event)
    issues.push(
      error('not-supported', `${HEADER}.eventCoding.code`, `unknown eReferral event code "${code}"`),
    );
  return { issues, code, event };
}

/**
 * The focus and the essentials of the event: a focus of the event's type in the bundle, a
 * Patient subject where the event needs one, an appointment's referral. Returns the id of the
 * ServiceRequest the message is about, if any; adds its issues to `issues`.
 */
function checkFocus(
  focus: unknown[],
  code: string,
  event: EventRule,
  index: BundleIndex,
  issues: ValidationIssue[],
): string | null {
  const main = focus
    .map((f) => index.target(f))
    .find((target) => target !== undefined && event.focus.includes(String(target.resource['resourceType'])));
  if (!main) {
    issues.push(
      error(
        'business-rule',
        `${HEADER}.focus`,
        `event "${code}" needs a focus on a ${event.focus.join(' or ')} in the bundle`,
      ),
    );
    return null;
  }
  const resource = main.resource;
  const where = `Bundle.entry[${main.index}].resource`;
  let serviceRequestId: string | null = null;
  if (resource['resourceType'] === 'ServiceRequest')
    serviceRequestId = typeof resource['id'] === 'string' ? resource['id'] : null;
  if (resource['resourceType'] === 'Task') {
    const target = index.target(resource['focus']);
    if (target?.resource['resourceType'] === 'ServiceRequest' && typeof target.resource['id'] === 'string')
      serviceRequestId = target.resource['id'];
  }
  if (resource['resourceType'] === 'Appointment') {
    const basedOn = Array.isArray(resource['basedOn']) ? (resource['basedOn'] as unknown[]) : [];
    const sr = basedOn
      .map((b) => index.target(b))
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
  if (event.patientSubject && index.target(resource['subject'])?.resource['resourceType'] !== 'Patient') {
    issues.push(
      error(
        'business-rule',
        `${where}.subject`,
        `event "${code}": the ${String(resource['resourceType'])}'s subject must be a Patient in the bundle`,
      ),
    );
  }
  return serviceRequestId;
}

/** Imperfections real senders have that FHIR R4 allows, for one entry: reported as warnings. */
function quirks(entry: Entry, found: EntryFindings): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
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
        warning('unknown-profile', 'not-supported', path, 'unknown profile; validated against base FHIR R4'),
      );
    }
  });
  issues.push(...found.codings);
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
  issues.push(...found.items);
  return issues;
}
