import {
  ADMIN_DENIED,
  adminOpenApi,
  INVALID_SITE,
  problemResponse as problem,
  siteReadRoute,
  type ApiRoute,
} from '@cloud-connect/service-kit';
import { emrCredentials } from '../adapters/emr-adapter';
import { releaseBody, settingsBody, syncBody } from './emr-admin.controller';

/**
 * The EMR gateway's admin API: a site's EMR connection, settings, manual sync and the command
 * queue (dead letters, held commands, replay and release).
 */
export const EMR_ADMIN_ROUTES: ApiRoute[] = [
  {
    method: 'put',
    path: 'admin/sites/:site/emr',
    summary:
      'Connect or reconfigure the EMR: the credentials are tried at once, then stored in the secrets store',
    tags: ['Connection'],
    body: emrCredentials,
    responses: {
      200: { description: 'connected' },
      400: problem('the credentials are not valid for this EMR type (details name the field)'),
      ...ADMIN_DENIED,
      422: problem('the EMR refused the credentials, or did not answer'),
    },
  },
  siteReadRoute(
    'admin/sites/:site/emr',
    'The connection status: EMR type, health, last sync and queue counts',
    'Connection',
    'the status',
  ),
  {
    method: 'delete',
    path: 'admin/sites/:site/emr',
    summary: 'Disconnect the EMR (its stored credentials are removed)',
    tags: ['Connection'],
    responses: {
      204: { description: 'disconnected' },
      400: INVALID_SITE,
      ...ADMIN_DENIED,
      404: problem('the site has no EMR connection'),
    },
  },
  siteReadRoute(
    'admin/sites/:site/emr/providers',
    "The EMR's providers (for routing referrals)",
    'Connection',
    'the providers',
  ),
  siteReadRoute(
    'admin/sites/:site/emr/settings',
    "The site's EMR settings and their version",
    'Settings',
    'the settings',
  ),
  {
    method: 'put',
    path: 'admin/sites/:site/emr/settings',
    summary: 'Replace the EMR settings (optionally only if still at `expectedVersion`)',
    tags: ['Settings'],
    body: settingsBody,
    responses: {
      200: { description: 'the settings as saved' },
      400: problem('the settings are not valid'),
      ...ADMIN_DENIED,
      409: problem('the settings changed since `expectedVersion`, or the site has no EMR connection'),
    },
  },
  {
    method: 'post',
    path: 'admin/sites/:site/emr/sync',
    summary: 'Sync now (recent or full); also called by the scheduler',
    tags: ['Sync'],
    body: syncBody,
    responses: {
      202: { description: 'the sync is requested (its request id)' },
      400: problem('scope is recent or full'),
      ...ADMIN_DENIED,
    },
  },
  siteReadRoute(
    'admin/sites/:site/emr/commands/dead-letters',
    'Commands the EMR did not accept after every retry',
    'Commands',
    'the dead letters',
  ),
  siteReadRoute(
    'admin/sites/:site/emr/commands/held',
    "Commands waiting for an admin to pick the patient's chart",
    'Commands',
    'the held commands',
  ),
  {
    method: 'post',
    path: 'admin/sites/:site/emr/commands/:commandId/release',
    summary: 'Release a held command into the chart the admin picked',
    tags: ['Commands'],
    body: releaseBody,
    responses: {
      202: { description: 'released' },
      400: problem('not a command id or patient id'),
      ...ADMIN_DENIED,
      404: problem('no such command waiting for a patient at this site'),
    },
  },
  {
    method: 'get',
    path: 'admin/sites/:site/emr/commands/:commandId',
    summary: "A command's state",
    tags: ['Commands'],
    responses: {
      200: { description: 'the state' },
      400: problem('not a command id'),
      ...ADMIN_DENIED,
      404: problem('no such command at this site'),
    },
  },
  {
    method: 'post',
    path: 'admin/sites/:site/emr/commands/:commandId/replay',
    summary: 'Send a dead-lettered command again',
    tags: ['Commands'],
    responses: {
      202: { description: 'queued again' },
      400: problem('not a command id'),
      ...ADMIN_DENIED,
      404: problem('no such dead-lettered command at this site'),
    },
  },
];

export const { document: emrGatewayOpenApi, controller: OpenApiController } = adminOpenApi(
  'Cloud Connect EMR gateway: admin API',
  "A site's EMR connection, settings, manual sync and command queue.",
  EMR_ADMIN_ROUTES,
);
