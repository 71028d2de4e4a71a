import { documentedRoutes } from '@cloud-connect/service-kit';
import {
  bodyProperties,
  openApiProblems,
  routeCoverageProblems,
  testServiceKeys,
  unitContext,
} from '@cloud-connect/testing';
import type { Type } from '@nestjs/common';
import { AppModule } from '../app.module';
import type { VaultConfig } from '../config';
import { PhiController } from '../phi/phi.controller';
import { vaultOpenApi } from './openapi';

/** Service-to-service routes: not part of the admin API (callers are services, not people). */
const SERVICE_ONLY: Type[] = [PhiController];

describe('the vault admin API OpenAPI document', () => {
  const doc = vaultOpenApi();
  const app = AppModule.register(
    unitContext<VaultConfig>({
      DATABASE_SCHEMA: 'vault',
      CONSOLE_URL: 'http://127.0.0.1:3000',
      SERVICE_AUTH_SECRET: 'x',
      ...testServiceKeys('vault'),
    }),
  );

  it('lists every registered admin route, and nothing that is not one', () => {
    expect(routeCoverageProblems(doc, app, SERVICE_ONLY)).toEqual([]);
    expect(documentedRoutes(doc)).toEqual(
      expect.arrayContaining(['PATCH /admin/sites/{site}', 'POST /auth/password/forgot']),
    );
  });

  it('validates as OpenAPI 3.1 (the specification’s own JSON Schema), bodies as JSON Schema 2020-12', () => {
    expect(openApiProblems(doc)).toEqual({ spec: [], bodies: [] });
  });

  it('describes bodies with the zod schemas the routes validate with', () => {
    expect(bodyProperties(doc, '/admin/sites/{site}', 'patch')).toEqual([
      'clinicalAdminEmail',
      'locale',
      'name',
      'timezone',
    ]);
  });
});
