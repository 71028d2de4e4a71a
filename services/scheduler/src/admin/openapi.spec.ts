import { documentedRoutes, routesOf } from '@cloud-connect/service-kit';
import { apiRoutesOf, bodyProperties, invalidBodySchemas, openApiErrors } from '@cloud-connect/testing';
import type { Type } from '@nestjs/common';
import { AppModule } from '../app.module';
import type { SchedulerConfig } from '../config';
import { schedulerOpenApi } from './openapi';
import { OptOutController } from './opt-out.controller';

/** The patients' opt-out link (`public/reminders/stop`): for the people reminded, not the admin API. */
const NOT_ADMIN_API: Type[] = [OptOutController];

describe('the scheduler admin API OpenAPI document', () => {
  const doc = schedulerOpenApi();
  const app = AppModule.register({
    config: { DATABASE_SCHEMA: 'scheduler', SERVICE_AUTH_SECRET: 'x' } as SchedulerConfig,
    logger: undefined as never,
    metrics: undefined as never,
  });

  it('lists every registered admin route, and nothing that is not one', () => {
    const registered = apiRoutesOf(app, NOT_ADMIN_API);
    expect(registered.length).toBeGreaterThan(4);
    expect(documentedRoutes(doc)).toEqual(registered);
    expect(documentedRoutes(doc)).toEqual(
      expect.arrayContaining(['PUT /admin/sites/{site}/reminders/policy', 'GET /admin/openapi.json']),
    );
    for (const route of routesOf(NOT_ADMIN_API)) expect(documentedRoutes(doc)).not.toContain(route);
  });

  it('validates as OpenAPI 3.1 (the specification’s own JSON Schema)', () => {
    expect(openApiErrors(doc)).toEqual([]);
  });

  it('describes bodies and queries with the zod schemas the routes validate with', () => {
    expect(bodyProperties(doc, '/admin/sites/{site}/reminders/policy', 'put')).toEqual(['policy']);
    const list = doc.paths['/admin/sites/{site}/reminders']?.['get'] as { parameters: { name: string }[] };
    expect(list.parameters.map((p) => p.name).sort()).toEqual(['appointment', 'limit', 'site', 'status']);
    expect(invalidBodySchemas(doc)).toEqual([]);
  });
});
