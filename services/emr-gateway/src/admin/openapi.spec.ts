import {
  bodyProperties,
  openApiProblems,
  routeCoverageProblems,
  testServiceKeys,
  unitContext,
} from '@cloud-connect/testing';
import { AppModule } from '../app.module';
import type { EmrGatewayConfig } from '../config';
import { emrGatewayOpenApi } from './openapi';

describe('the EMR gateway admin API OpenAPI document', () => {
  const doc = emrGatewayOpenApi();
  const app = AppModule.register(
    unitContext<EmrGatewayConfig>({ SERVICE_AUTH_SECRET: 'x', ...testServiceKeys('emr-gateway') }),
  );

  it('lists every registered admin route (all of them are), and nothing else', () => {
    expect(routeCoverageProblems(doc, app, [])).toEqual([]);
    expect(Object.keys(doc.paths)).toContain('/admin/sites/{site}/emr');
  });

  it('validates as OpenAPI 3.1 (the specification’s own JSON Schema), bodies as JSON Schema 2020-12', () => {
    expect(openApiProblems(doc)).toEqual({ spec: [], bodies: [] });
  });

  it('describes bodies with the zod schemas the routes validate with', () => {
    expect(bodyProperties(doc, '/admin/sites/{site}/emr/settings', 'put')).toEqual([
      'expectedVersion',
      'settings',
    ]);
    expect(bodyProperties(doc, '/admin/sites/{site}/emr/commands/{commandId}/release', 'post')).toEqual([
      'patientId',
    ]);
  });
});
