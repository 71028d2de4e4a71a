import {
  bodyProperties,
  openApiProblems,
  routeCoverageProblems,
  testServiceKeys,
  unitContext,
} from '@cloud-connect/testing';
import type { Type } from '@nestjs/common';
import { AppModule } from '../app.module';
import {
  FormContentController,
  ReferralContentController,
} from '../chart-content/referral-content.controller';
import type { IntakeConfig } from '../config';
import { TOKEN_PATH } from '../oauth/oauth.routes';
import { intakeOpenApi } from './openapi';

/**
 * Not the admin API: the service-to-service `internal/…` routes (callers are services, not people).
 * The FHIR API and the OAuth token endpoint are for integrators and are not Nest routes at all.
 */
const NOT_ADMIN_API: Type[] = [ReferralContentController, FormContentController];

describe('the referral intake admin API OpenAPI document', () => {
  const doc = intakeOpenApi();
  const app = AppModule.register(
    unitContext<IntakeConfig>({ SERVICE_AUTH_SECRET: 'x', ...testServiceKeys('referral-intake') }),
  );

  it('lists every registered admin route, and nothing that is not one', () => {
    expect(routeCoverageProblems(doc, app, NOT_ADMIN_API)).toEqual([]);
    const paths = Object.keys(doc.paths);
    expect(paths).toEqual(
      expect.arrayContaining(['/admin/sites/{site}/integrations', '/admin/sites/{site}/oauth-clients']),
    );
    expect(paths.filter((path) => path === TOKEN_PATH || /\/fhir\b|\/internal\//.test(path))).toEqual([]);
  });

  it('validates as OpenAPI 3.1 (the specification’s own JSON Schema), bodies as JSON Schema 2020-12', () => {
    expect(openApiProblems(doc)).toEqual({ spec: [], bodies: [] });
  });

  it('describes bodies with the zod schemas the use cases validate with', () => {
    expect(bodyProperties(doc, '/admin/sites/{site}/oauth-clients', 'post')).toEqual([
      'jwks',
      'jwksUrl',
      'name',
      'scopes',
    ]);
    expect(bodyProperties(doc, '/admin/sites/{site}/integrations/{id}/rotate-key', 'post')).toEqual([
      'key',
      'overlapSeconds',
    ]);
    expect(bodyProperties(doc, '/admin/sites/{site}/integrations', 'post')).toEqual(
      expect.arrayContaining(['name', 'requestUrl', 'sendCopies']),
    );
  });
});
