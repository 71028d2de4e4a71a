import {
  ADMIN_DENIED,
  adminOpenApi,
  problemResponse as problem,
  type ApiRoute,
} from '@cloud-connect/service-kit';
import { createClientInput, rotateClientInput } from '../oauth/oauth-client';
import { createIntegrationInput, rotateKeyInput } from './integration';
import { replayDeliveriesBody } from './integrations.controller';

const integrationNotFound = problem('no such integration at this site');
const clientNotFound = problem('no such OAuth client at this site');
/** The body's shape; the egress policy only decides which request URLs are accepted. */
const createIntegrationBody = createIntegrationInput({ egress: { allowLoopback: false } });

/**
 * Referral intake's admin API: a site's integrations (inbound keys, outbound copies and their
 * delivery log) and the OAuth clients of its FHIR API integrators. The FHIR API, the OAuth token
 * endpoint and the service-to-service routes are not part of it and not listed.
 */
export const INTAKE_ADMIN_ROUTES: ApiRoute[] = [
  {
    method: 'get',
    path: 'admin/sites/:site/integrations',
    summary: "The site's integrations (no keys)",
    tags: ['Integrations'],
    responses: { 200: { description: 'the integrations' }, ...ADMIN_DENIED },
  },
  {
    method: 'post',
    path: 'admin/sites/:site/integrations',
    summary: 'Register an integration (a sign-in within 15 minutes); a generated key is in this answer only',
    tags: ['Integrations'],
    body: createIntegrationBody,
    responses: {
      201: { description: 'registered, with its key' },
      400: problem('a field is not valid (details name it)'),
      ...ADMIN_DENIED,
      409: problem('the name is taken, or the site has no Shared Encryption Key'),
      503: problem('encryption is unavailable; try again'),
    },
  },
  {
    method: 'post',
    path: 'admin/sites/:site/integrations/:id/disable',
    summary: 'Disable an integration (its key is refused)',
    tags: ['Integrations'],
    responses: { 200: { description: 'the integration' }, ...ADMIN_DENIED, 404: integrationNotFound },
  },
  {
    method: 'post',
    path: 'admin/sites/:site/integrations/:id/enable',
    summary: 'Enable an integration again',
    tags: ['Integrations'],
    responses: { 200: { description: 'the integration' }, ...ADMIN_DENIED, 404: integrationNotFound },
  },
  {
    method: 'post',
    path: 'admin/sites/:site/integrations/:id/rotate-key',
    summary: 'Replace the inbound key (a sign-in within 15 minutes); the previous key works for the overlap',
    tags: ['Integrations'],
    body: rotateKeyInput,
    responses: {
      200: { description: 'the new key (generated ones appear only here)' },
      400: problem('a field is not valid'),
      ...ADMIN_DENIED,
      404: integrationNotFound,
    },
  },
  {
    method: 'get',
    path: 'admin/sites/:site/integrations/:id/deliveries',
    summary: 'The outbound copies of an integration and how their delivery went',
    tags: ['Integrations'],
    responses: { 200: { description: 'the deliveries' }, ...ADMIN_DENIED, 404: integrationNotFound },
  },
  {
    method: 'post',
    path: 'admin/sites/:site/integrations/:id/deliveries/replay',
    summary: 'Send dead-lettered copies again: one (deliveryId) or all of them',
    tags: ['Integrations'],
    body: replayDeliveriesBody,
    responses: {
      200: { description: 'the ids of the deliveries queued again' },
      400: problem('deliveryId is not a delivery id'),
      ...ADMIN_DENIED,
      404: integrationNotFound,
    },
  },
  {
    method: 'get',
    path: 'admin/sites/:site/oauth-clients',
    summary: "The site's OAuth clients (no secrets)",
    tags: ['OAuth clients'],
    responses: { 200: { description: 'the clients' }, ...ADMIN_DENIED },
  },
  {
    method: 'post',
    path: 'admin/sites/:site/oauth-clients',
    summary:
      'Create an OAuth client for a FHIR API integrator (a secret, or its public keys); a secret is in this answer only',
    tags: ['OAuth clients'],
    body: createClientInput,
    responses: {
      201: { description: 'the client, with its secret if one was generated' },
      400: problem('a field is not valid (details name it)'),
      ...ADMIN_DENIED,
      409: problem('the name is taken'),
    },
  },
  {
    method: 'post',
    path: 'admin/sites/:site/oauth-clients/:clientId/revoke',
    summary: 'Revoke an OAuth client (no new tokens)',
    tags: ['OAuth clients'],
    responses: { 200: { description: 'revoked' }, ...ADMIN_DENIED, 404: clientNotFound },
  },
  {
    method: 'post',
    path: 'admin/sites/:site/oauth-clients/:clientId/rotate',
    summary: "Replace an OAuth client's secret; the previous one works for the overlap",
    tags: ['OAuth clients'],
    body: rotateClientInput,
    responses: {
      200: { description: 'the new secret (only here)' },
      400: problem('the overlap is not valid'),
      ...ADMIN_DENIED,
      404: clientNotFound,
    },
  },
];

export const { document: intakeOpenApi, controller: OpenApiController } = adminOpenApi(
  'Cloud Connect referral intake: admin API',
  "A site's integrations and delivery log, and its FHIR API integrators' OAuth clients.",
  INTAKE_ADMIN_ROUTES,
);
