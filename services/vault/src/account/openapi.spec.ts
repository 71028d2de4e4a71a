import { documentedRoutes, routesOf } from '@cloud-connect/service-kit';
import { apiRoutesOf, bodyProperties, invalidBodySchemas, openApiErrors } from '@cloud-connect/testing';
import type { Type } from '@nestjs/common';
import { AppModule } from '../app.module';
import type { VaultConfig } from '../config';
import { PhiController } from '../phi/phi.controller';
import { vaultOpenApi } from './openapi';

/** Service-to-service routes: not part of the admin API (callers are services, not people). */
const SERVICE_ONLY: Type[] = [PhiController];

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
    const registered = apiRoutesOf(app, SERVICE_ONLY);
    expect(registered.length).toBeGreaterThan(20);
    expect(documentedRoutes(doc)).toEqual(registered);
    expect(documentedRoutes(doc)).toEqual(
      expect.arrayContaining(['PATCH /admin/sites/{site}', 'POST /auth/password/forgot']),
    );
    for (const route of routesOf(SERVICE_ONLY)) expect(documentedRoutes(doc)).not.toContain(route);
  });

  it('validates as OpenAPI 3.1 (the specification’s own JSON Schema)', () => {
    expect(openApiErrors(doc)).toEqual([]);
  });

  it('describes bodies with the zod schemas the routes validate with', () => {
    expect(bodyProperties(doc, '/admin/sites/{site}', 'patch')).toEqual([
      'clinicalAdminEmail',
      'locale',
      'name',
      'timezone',
    ]);
    expect(invalidBodySchemas(doc)).toEqual([]);
  });
});
