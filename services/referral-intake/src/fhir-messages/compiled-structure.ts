import {
  UCUM,
  capitalize,
  evalFhirPathTyped,
  fhirTypeToJsType,
  isPrimitiveType,
  isValidCalendarDate,
  parseFhirPath,
  toTypedValue,
  tryGetDataType,
  validationRegexes,
  type InternalSchemaElement,
  type InternalTypeSchema,
  type TypedValue,
} from '@medplum/core';
import { compiledInvariant } from './compiled-invariants';

/**
 * The R4 structure checks compiled once per type: each type's elements become a table from JSON
 * key to element (choice types expanded to one key per allowed type), its required elements a
 * list, and its invariants a parsed FHIRPath (or a JavaScript function for the common ones). The
 * element tables come from the same R4 StructureDefinitions @medplum/core validates with.
 *
 * `isClean` answers one question in one pass without building any typed value: does the bundle
 * certainly pass @medplum/core's `validateResource` without a single issue (error or warning)? It
 * answers `false` at the first doubt — an unknown element, a wrong cardinality or JSON type, a
 * malformed primitive, a failed invariant, a reference to the wrong type, and anything it does not
 * model (primitive extensions `_x`, profiles' fixed values and slices, nulls, empty values) — and
 * then the caller runs the full validator, which names every issue. So the issues reported are
 * always the full validator's; this only spares it the bundles with none (what real senders post).
 */

/** Invariants @medplum/core does not evaluate (copied from its validator: same semantics). */
const SKIPPED_INVARIANTS = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);

const HL7_TYPE = 'http://hl7.org/fhir/StructureDefinition/';
const MEDPLUM_TYPE = 'https://medplum.com/fhir/StructureDefinition/';
const BASE64_MAX_BYTES = 1024 * 1024;
const STRING_MAX_LENGTH = 1024 * 1024;
const INT_MIN = -2_147_483_648;
const INT_MAX = 2_147_483_647;

type Json = Record<string, unknown>;

/** An invariant ready to run: true when it holds for the value. */
export type Invariant = (value: TypedValue, resource: unknown, root: TypedValue) => boolean;

interface Slot {
  element: InternalSchemaElement;
  /** The FHIR type of the values under this key. */
  type: string;
  /** The choice element (`value[x]`) this key is one variant of, or null. */
  choice: string | null;
  invariants: Invariant[];
  /** Target types a Reference may name (null: any), when the element is a Reference. */
  targets: Set<string> | null;
}

interface CompiledType {
  schema: InternalTypeSchema;
  /** False when the type has something this checker does not model (always "not clean"). */
  modelled: boolean;
  slots: Map<string, Slot>;
  /** Per required element, the JSON keys that satisfy it. */
  required: string[][];
  invariants: Invariant[];
}

const UCUM_VALUE = toTypedValue(UCUM);

/** Compiles a FHIRPath invariant once: the JavaScript version if we have one, else parsed FHIRPath. */
function compileInvariant(key: string, expression: string): Invariant {
  const fast = compiledInvariant(key, expression);
  if (fast) return fast;
  const atom = parseFhirPath(expression);
  return (value, resource, root) => {
    const variables: Record<string, TypedValue> = {
      '%context': value,
      '%ucum': UCUM_VALUE,
      '%rootResource': root,
    };
    if (resource !== undefined) variables['%resource'] = toTypedValue(resource);
    try {
      const result = evalFhirPathTyped(atom, [value], variables);
      return result.length === 1 && result[0]?.value === true;
    } catch {
      return false;
    }
  };
}

function invariantsOf(constraints: InternalSchemaElement['constraints']): Invariant[] {
  return (constraints ?? [])
    .filter((c) => c.severity === 'error' && !SKIPPED_INVARIANTS.has(c.key))
    .map((c) => compileInvariant(c.key, c.expression));
}

/** Reference targets: null when any type is allowed or a target is a profile we cannot judge. */
function targetsOf(element: InternalSchemaElement): Set<string> | null {
  const profiles = element.type.find((t) => t.code === 'Reference')?.targetProfile;
  if (!profiles) return null;
  const targets = new Set<string>();
  for (const profile of profiles) {
    const base = profile.startsWith(HL7_TYPE)
      ? HL7_TYPE
      : profile.startsWith(MEDPLUM_TYPE)
        ? MEDPLUM_TYPE
        : null;
    if (base === null) return null;
    const name = profile.slice(base.length);
    if (base === HL7_TYPE && name === 'Resource') return null;
    targets.add(`${base}${name}`);
  }
  return targets;
}

const compiled = new WeakMap<InternalTypeSchema, CompiledType>();

function compile(schema: InternalTypeSchema): CompiledType {
  const known = compiled.get(schema);
  if (known) return known;
  const slots = new Map<string, Slot>();
  const required: string[][] = [];
  let modelled = true;
  for (const [name, element] of Object.entries(schema.elements)) {
    if (name.includes('.') || element.type.length === 0) {
      modelled = false;
      continue;
    }
    const invariants = invariantsOf(element.constraints);
    const targets = targetsOf(element);
    const keys: string[] = [];
    if (name.endsWith('[x]')) {
      const base = name.slice(0, -3);
      for (const type of element.type) {
        const key = base + capitalize(type.code);
        keys.push(key);
        if (!slots.has(key)) slots.set(key, { element, type: type.code, choice: name, invariants, targets });
      }
    } else {
      keys.push(name);
      slots.set(name, { element, type: element.type[0]?.code ?? '', choice: null, invariants, targets });
    }
    if (element.min > 0) required.push(keys);
  }
  const result: CompiledType = {
    schema,
    modelled,
    slots,
    required,
    invariants: invariantsOf(schema.constraints),
  };
  compiled.set(schema, result);
  return result;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** @medplum/core's isEmpty: null, undefined, '', an empty array or object. */
function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true;
  if (typeof value !== 'object') return false;
  return Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
}

function primitiveIsClean(type: string, value: unknown): boolean {
  const jsType = (fhirTypeToJsType as Record<string, string | undefined>)[type];
  if (jsType === undefined || typeof value !== jsType) return false;
  if (type === 'base64Binary') {
    const text = value as string;
    const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
    if (text.length === 0 || text.length % 4 !== 0) return false;
    if (!/^[A-Za-z\d+/]+$/.test(padding > 0 ? text.slice(0, -padding) : text)) return false;
    return Math.floor((text.length * 3) / 4) - padding <= BASE64_MAX_BYTES;
  }
  if (jsType === 'string') {
    const text = value as string;
    if (!text.trim() || text.length > STRING_MAX_LENGTH) return false;
    const regex = validationRegexes[type];
    if (regex && !regex.test(text)) return false;
    if ((type === 'date' || type === 'dateTime' || type === 'instant') && !isValidCalendarDate(text))
      return false;
    return true;
  }
  if (jsType === 'number') {
    const n = value as number;
    if (!Number.isFinite(n)) return false;
    if (type === 'integer') return Number.isInteger(n) && n >= INT_MIN && n <= INT_MAX;
    if (type === 'positiveInt') return Number.isInteger(n) && n >= 1 && n <= INT_MAX;
    if (type === 'unsignedInt') return Number.isInteger(n) && n >= 0 && n <= INT_MAX;
  }
  return true;
}

/** The target of a literal reference as @medplum/core reads it; true when it names an allowed type. */
function referenceIsClean(value: Json, slot: Slot): boolean {
  const reference = value['reference'];
  if (typeof reference !== 'string' || reference.startsWith('#') || slot.targets === null) return true;
  const type = reference.includes('?') ? reference.split('?')[0] : reference.split('/')[0];
  // An empty target type is left to the invariants; a urn: target is not a type (the message
  // rules resolve those inside the bundle).
  if (!type || type.startsWith('urn:')) return true;
  if (reference === 'system' && slot.element.path === 'AuditEvent.agent.who') return true;
  return slot.targets.has(HL7_TYPE + type) || slot.targets.has(MEDPLUM_TYPE + type);
}

class CleanCheck {
  private readonly resources: unknown[] = [];

  constructor(private readonly root: TypedValue) {}

  object(value: Json, type: CompiledType): boolean {
    if (!type.modelled) return false;
    const isResource = typeof value['resourceType'] === 'string';
    if (isResource) this.resources.push(value);
    let choices: string[] | undefined;
    for (const key in value) {
      if (key === 'resourceType') continue;
      const slot = type.slots.get(key);
      if (slot === undefined) return false;
      if (slot.choice !== null) {
        choices ??= [];
        if (choices.includes(slot.choice)) return false;
        choices.push(slot.choice);
      }
      if (!this.property(value[key], slot, type)) return false;
    }
    for (const keys of type.required) {
      if (!keys.some((k) => value[k] !== undefined)) return false;
    }
    if (isResource) this.resources.pop();
    return true;
  }

  private property(value: unknown, slot: Slot, parent: CompiledType): boolean {
    if (isEmpty(value)) return false;
    const element = slot.element;
    if (element.pattern !== undefined || element.fixed !== undefined || element.slicing !== undefined)
      return false;
    if (element.isArray) {
      if (!Array.isArray(value) || value.length < element.min || value.length > element.max) return false;
      for (const item of value as unknown[]) if (!this.item(item, slot, parent)) return false;
      return true;
    }
    if (Array.isArray(value) || element.max < 1) return false;
    return this.item(value, slot, parent);
  }

  private item(value: unknown, slot: Slot, parent: CompiledType): boolean {
    if (value === null || value === undefined) return false;
    let type = slot.type;
    if (isPrimitiveType(type)) {
      if (!primitiveIsClean(type, value)) return false;
    } else {
      if (!isObject(value) || isEmpty(value)) return false;
      if (type === 'Resource') {
        if (typeof value['resourceType'] !== 'string') return false;
        type = value['resourceType'];
      }
      if (type === 'Reference' && !referenceIsClean(value, slot)) return false;
    }
    if (slot.invariants.length > 0) {
      const typed: TypedValue = { type, value };
      const resource = this.resources[this.resources.length - 1];
      for (const invariant of slot.invariants) if (!invariant(typed, resource, this.root)) return false;
    }
    if (isPrimitiveType(type)) return true;
    const schema = parent.schema.innerTypes.find((t) => t.name === type) ?? tryGetDataType(type);
    if (schema === undefined) return false;
    return this.object(value as Json, compile(schema));
  }
}

/**
 * True when `resource` certainly passes @medplum/core's `validateResource` with no issue at all;
 * false when it may not (then run the full validator). The R4 definitions must be loaded.
 */
export function isClean(resource: Json): boolean {
  const resourceType = resource['resourceType'];
  if (typeof resourceType !== 'string') return false;
  const schema = tryGetDataType(resourceType);
  if (schema === undefined) return false;
  const type = compile(schema);
  const root = toTypedValue(resource);
  for (const invariant of type.invariants) if (!invariant(root, resource, root)) return false;
  return new CleanCheck(root).object(resource, type);
}
