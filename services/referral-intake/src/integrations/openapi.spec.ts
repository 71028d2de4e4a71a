import { documentedRoutes, routesOf } from '@cloud-connect/service-kit';
import { apiRoutesOf, bodyProperties, invalidBodySchemas, openApiErrors } from '@cloud-connect/testing';
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
  const app = AppModule.register({
    config: { DATABASE_SCHEMA: 'referral_intake', SERVICE_AUTH_SECRET: 'x' } as IntakeConfig,
    logger: undefined as never,
    metrics: undefined as never,
  });

  it('lists every registered admin route, and nothing that is not one', () => {
    const registered = apiRoutesOf(app, NOT_ADMIN_API);
    expect(registered.length).toBeGreaterThan(10);
    expect(documentedRoutes(doc)).toEqual(registered);
    expect(documentedRoutes(doc)).toEqual(
      expect.arrayContaining([
        'POST /admin/sites/{site}/integrations',
        'POST /admin/sites/{site}/oauth-clients',
        'GET /admin/openapi.json',
      ]),
    );
    for (const route of routesOf(NOT_ADMIN_API)) expect(documentedRoutes(doc)).not.toContain(route);
    for (const route of documentedRoutes(doc)) expect(route).not.toMatch(/\/fhir\b|\/internal\//);
    expect(Object.keys(doc.paths)).not.toContain(TOKEN_PATH);
  });

  it('validates as OpenAPI 3.1 (the specification’s own JSON Schema)', () => {
    expect(openApiErrors(doc)).toEqual([]);
  });

  it('describes bodies with the zod schemas the routes validate with', () => {
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
    expect(invalidBodySchemas(doc)).toEqual([]);
  });
});
