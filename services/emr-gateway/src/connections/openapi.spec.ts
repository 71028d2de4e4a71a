import { documentedRoutes } from '@cloud-connect/service-kit';
import { apiRoutesOf, bodyProperties, invalidBodySchemas, openApiErrors } from '@cloud-connect/testing';
import { AppModule } from '../app.module';
import type { EmrGatewayConfig } from '../config';
import { emrGatewayOpenApi } from './openapi';

describe('the EMR gateway admin API OpenAPI document', () => {
  const doc = emrGatewayOpenApi();
  const app = AppModule.register({
    config: { DATABASE_SCHEMA: 'emr_gateway', SERVICE_AUTH_SECRET: 'x' } as EmrGatewayConfig,
    logger: undefined as never,
    metrics: undefined as never,
  });

  it('lists every registered admin route, and nothing that is not one', () => {
    const registered = apiRoutesOf(app, []);
    expect(registered.length).toBeGreaterThan(10);
    expect(documentedRoutes(doc)).toEqual(registered);
    expect(documentedRoutes(doc)).toEqual(
      expect.arrayContaining(['PUT /admin/sites/{site}/emr', 'GET /admin/openapi.json']),
    );
  });

  it('validates as OpenAPI 3.1 (the specification’s own JSON Schema)', () => {
    expect(openApiErrors(doc)).toEqual([]);
  });

  it('describes bodies with the zod schemas the routes validate with', () => {
    expect(bodyProperties(doc, '/admin/sites/{site}/emr/settings', 'put')).toEqual([
      'expectedVersion',
      'settings',
    ]);
    expect(bodyProperties(doc, '/admin/sites/{site}/emr/commands/{commandId}/release', 'post')).toEqual([
      'patientId',
    ]);
    expect(invalidBodySchemas(doc)).toEqual([]);
  });
});
