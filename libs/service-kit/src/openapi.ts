import { Public } from '@cloud-connect/auth';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { Controller, Get, RequestMethod, type Type } from '@nestjs/common';
import { z } from 'zod';

/**
 * One OpenAPI 3.1 document per service, generated from the same zod schemas its controllers
 * validate with (zod 4's `z.toJSONSchema`, JSON Schema 2020-12 — the dialect of OpenAPI 3.1).
 * A service lists its routes once (`ApiRoute`); `routesOf` reads the routes Nest registers from
 * the controllers, so a test can prove every one of them is in the document.
 */
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ApiResponse {
  description: string;
  schema?: z.ZodType;
  /** Not JSON (e.g. `text/csv`). */
  contentType?: string;
}

export interface ApiRoute {
  method: HttpMethod;
  /** Nest-style path, e.g. `admin/sites/:site/admins/:userId`. */
  path: string;
  summary: string;
  tags?: string[];
  /** How the caller authenticates: an admin token (default), an operator credential, or none. */
  auth?: 'admin' | 'operator' | 'none';
  /** The request body's schema (its input shape). */
  body?: z.ZodType;
  /** Query parameters: an object schema whose keys are the parameters. */
  query?: z.ZodObject;
  responses: Record<number, ApiResponse>;
}

/** The RFC 9457 problem details every admin API answers an error with (`@cloud-connect/errors`). */
export const apiProblem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  errorId: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), detail: z.string() })).optional(),
});

/** An error answer (`application/problem+json`). */
export function problemResponse(description: string): ApiResponse {
  return { description, schema: apiProblem, contentType: 'application/problem+json' };
}

/** A `:site` that is not a site number (1 to 10 digits). */
export const INVALID_SITE: ApiResponse = problemResponse('the site is not a site number');

/** The answers of a site admin route to a caller who may not use it. */
export const ADMIN_DENIED: Record<number, ApiResponse> = {
  401: problemResponse('no valid admin token'),
  403: problemResponse('the caller does not administer this site'),
};

/**
 * A `GET` route of a site admin API that answers `answer` and fails only on the site number or
 * the caller's access.
 */
export function siteReadRoute(path: string, summary: string, tag: string, answer: string): ApiRoute {
  return {
    method: 'get',
    path,
    summary,
    tags: [tag],
    responses: { 200: { description: answer }, 400: INVALID_SITE, ...ADMIN_DENIED },
  };
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, unknown>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
}

const METHODS: Partial<Record<RequestMethod, HttpMethod>> = {
  [RequestMethod.GET]: 'get',
  [RequestMethod.POST]: 'post',
  [RequestMethod.PUT]: 'put',
  [RequestMethod.PATCH]: 'patch',
  [RequestMethod.DELETE]: 'delete',
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete out['$schema'];
  return out;
}

/** `admin/sites/:site` → `/admin/sites/{site}` */
export function openApiPath(path: string): string {
  const joined = `/${path}`.replace(/\/+/g, '/').replace(/\/$/, '') || '/';
  return joined.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function joinPath(prefix: string, path: string): string {
  return [prefix, path].filter((p) => p && p !== '/').join('/');
}

/** Every route Nest registers for these controllers, as `METHOD /open/api/{path}`. */
export function routesOf(controllers: Type[]): string[] {
  const routes: string[] = [];
  for (const controller of controllers) {
    const prefix = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    const proto = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const handler = proto[name];
      if (name === 'constructor' || typeof handler !== 'function') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
      if (method === undefined || path === undefined) continue;
      for (const p of Array.isArray(path) ? path : [path])
        routes.push(`${(METHODS[method] ?? 'other').toUpperCase()} ${openApiPath(joinPath(prefix, p))}`);
    }
  }
  return routes.sort();
}

/** The routes a document describes, as `METHOD /path`. */
export function documentedRoutes(doc: OpenApiDocument): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
}

export function openApiDocument(info: OpenApiDocument['info'], routes: ApiRoute[]): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    const parameters: unknown[] = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    if (route.query) {
      const props = (jsonSchema(route.query, 'input')['properties'] ?? {}) as Record<string, unknown>;
      const required = new Set((jsonSchema(route.query, 'input')['required'] as string[] | undefined) ?? []);
      for (const [name, schema] of Object.entries(props))
        parameters.push({ name, in: 'query', required: required.has(name), schema });
    }
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema
          ? {
              content: {
                [response.contentType ?? 'application/json']: {
                  schema: jsonSchema(response.schema, 'output'),
                },
              },
            }
          : response.contentType
            ? { content: { [response.contentType]: { schema: { type: 'string' } } } }
            : {}),
      };
    }
    paths[path] ??= {};
    paths[path][route.method] = {
      summary: route.summary,
      operationId: `${route.method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      ...(route.tags ? { tags: route.tags } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
            },
          }
        : {}),
      security:
        route.auth === 'none'
          ? []
          : route.auth === 'operator'
            ? [{ operatorToken: [] }]
            : [{ adminToken: [] }],
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      securitySchemes: {
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'An admin access token from POST /auth/login (5 minutes; renewed with POST /auth/refresh).',
        },
        operatorToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'An operator credential (`ccop_…`) whose SHA-256 is in OPERATOR_TOKENS_SHA256.',
        },
      },
      schemas: {},
    },
  };
}

/** The route that serves a service's document (`adminOpenApi` adds it to every admin API). */
export const OPENAPI_ROUTE: ApiRoute = {
  method: 'get',
  path: 'admin/openapi.json',
  summary: 'This document',
  tags: ['Documentation'],
  auth: 'none',
  responses: { 200: { description: 'the OpenAPI 3.1 document' } },
};

export interface AdminOpenApi {
  /** The document, generated once, when first asked for. */
  document: () => OpenApiDocument;
  /** The controller serving it at `GET /admin/openapi.json`, for the service's module. */
  controller: Type;
}

/** A service's admin API document (version 1, `routes` and the document's own) and the controller that serves it. */
export function adminOpenApi(title: string, description: string, routes: ApiRoute[]): AdminOpenApi {
  let generated: OpenApiDocument | undefined;
  const document = (): OpenApiDocument =>
    (generated ??= openApiDocument({ title, version: '1', description }, [...routes, OPENAPI_ROUTE]));

  @Controller('admin')
  class OpenApiController {
    @Get('openapi.json')
    @Public('the API description: routes and schemas, no data')
    openapi(): OpenApiDocument {
      return document();
    }
  }
  return { document, controller: OpenApiController };
}
