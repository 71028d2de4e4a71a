import {
  ADMIN_DENIED,
  adminOpenApi,
  problemResponse as problem,
  siteReadRoute,
  type ApiRoute,
} from '@cloud-connect/service-kit';
import { listRemindersDto, putPolicyDto } from './scheduler-admin.controller';

/**
 * The scheduler's admin API: a site's schedules, its reminder policy and its reminders. The
 * patients' opt-out link is not part of it and not listed.
 */
export const SCHEDULER_ADMIN_ROUTES: ApiRoute[] = [
  siteReadRoute(
    'admin/sites/:site/schedules',
    "The site's schedules (EMR syncs): next and last run",
    'Schedules',
    'the schedules',
  ),
  siteReadRoute(
    'admin/sites/:site/reminders/policy',
    "The site's appointment reminder policy and its version",
    'Reminders',
    'the policy',
  ),
  {
    method: 'put',
    path: 'admin/sites/:site/reminders/policy',
    summary: 'Replace the reminder policy (audited)',
    tags: ['Reminders'],
    body: putPolicyDto,
    responses: {
      200: { description: 'the policy as saved, with its version' },
      400: problem('the policy is not valid (details name the field)'),
      ...ADMIN_DENIED,
    },
  },
  {
    method: 'get',
    path: 'admin/sites/:site/reminders',
    summary: 'Reminders, by appointment and status (no contact details)',
    tags: ['Reminders'],
    query: listRemindersDto,
    responses: {
      200: { description: 'the reminders' },
      400: problem('a filter is not valid'),
      ...ADMIN_DENIED,
    },
  },
];

export const { document: schedulerOpenApi, controller: OpenApiController } = adminOpenApi(
  'Cloud Connect scheduler: admin API',
  "A site's schedules, reminder policy and reminders.",
  SCHEDULER_ADMIN_ROUTES,
);
