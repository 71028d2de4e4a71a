import {
  bodyProperties,
  openApiProblems,
  routeCoverageProblems,
  testServiceKeys,
  unitContext,
} from '@cloud-connect/testing';
import type { Type } from '@nestjs/common';
import { AppModule } from '../app.module';
import type { SchedulerConfig } from '../config';
import { schedulerOpenApi } from './openapi';
import { OptOutController } from './opt-out.controller';

/** The patients' opt-out link (`public/reminders/stop`): for the people reminded, not the admin API. */
const NOT_ADMIN_API: Type[] = [OptOutController];

describe('the scheduler admin API OpenAPI document', () => {
  const doc = schedulerOpenApi();
  const app = AppModule.register(
    unitContext<SchedulerConfig>({
      DATABASE_SCHEMA: 'scheduler',
      SERVICE_AUTH_SECRET: 'x',
      ...testServiceKeys('scheduler'),
    }),
  );

  it('lists every registered admin route, and nothing that is not one', () => {
    expect(routeCoverageProblems(doc, app, NOT_ADMIN_API)).toEqual([]);
    expect(Object.keys(doc.paths)).toContain('/admin/sites/{site}/reminders/policy');
  });

  it('validates as OpenAPI 3.1 (the specification’s own JSON Schema), bodies as JSON Schema 2020-12', () => {
    expect(openApiProblems(doc)).toEqual({ spec: [], bodies: [] });
  });

  it('describes the body and the query with the zod schemas the routes validate with', () => {
    expect(bodyProperties(doc, '/admin/sites/{site}/reminders/policy', 'put')).toEqual(['policy']);
    const list = doc.paths['/admin/sites/{site}/reminders']?.['get'] as { parameters: { name: string }[] };
    expect(list.parameters.map((p) => p.name).sort()).toEqual(['appointment', 'limit', 'site', 'status']);
  });
});
