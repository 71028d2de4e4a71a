import { adminOpenApi, problemResponse, type ApiResponse, type ApiRoute } from '@cloud-connect/service-kit';
import { z } from 'zod';
import { auditQueryInput } from '../audit/audit-trail';
import { reauthBody, signInBody } from '../identity/identity.controller';
import { createUserBody, grantBody } from '../operator/operator.controller';
import { sekBody } from '../sek/sek.controller';
import {
  acceptedAnswer,
  forgotPasswordBody,
  inviteAnswer,
  inviteAdminBody,
  resetAnswer,
  resetPasswordBody,
  siteAccount,
  siteAdminList,
  updateSiteAccountBody,
} from './account.schemas';

const problem = (description: string): ApiResponse => problemResponse(description);
const issuedToken = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
});
const sekVersion = z.object({ siteNumber: z.string(), version: z.number().int() });
const denied = {
  401: problem('no valid admin token'),
  403: problem('the caller does not administer this site'),
};

/**
 * The vault service's admin API: sign-in and sessions, password links, the site account, the
 * Shared Encryption Key and the audit trail. Service-to-service routes (PHI envelope
 * encryption) are not part of it and not listed.
 */
export const VAULT_ADMIN_ROUTES: ApiRoute[] = [
  {
    method: 'post',
    path: 'auth/login',
    summary: 'Sign in with e-mail and password: a 15-minute admin token',
    tags: ['Sessions'],
    auth: 'none',
    body: signInBody,
    responses: {
      200: { description: 'signed in', schema: issuedToken },
      401: problem('e-mail or password is incorrect'),
      429: problem('too many failed sign-ins'),
    },
  },
  {
    method: 'post',
    path: 'auth/reauthenticate',
    summary: 'Prove the password again (for sensitive actions such as viewing the SEK)',
    tags: ['Sessions'],
    body: reauthBody,
    responses: { 200: { description: 'a fresh token', schema: issuedToken }, 401: problem('wrong password') },
  },
  {
    method: 'post',
    path: 'auth/refresh',
    summary:
      'Exchange a valid token for a new one (sliding session, at most 8 hours after the last password)',
    tags: ['Sessions'],
    responses: { 200: { description: 'a new token', schema: issuedToken }, 401: problem('sign in again') },
  },
  {
    method: 'get',
    path: '.well-known/jwks.json',
    summary: 'The public keys of admin tokens',
    tags: ['Sessions'],
    auth: 'none',
    responses: { 200: { description: 'a JWK set' } },
  },
  {
    method: 'post',
    path: 'auth/password/forgot',
    summary: 'E-mail a one-time link to choose a new password (the same answer for any address)',
    tags: ['Passwords'],
    auth: 'none',
    body: forgotPasswordBody,
    responses: {
      202: { description: 'accepted', schema: acceptedAnswer },
      400: problem('no e-mail given'),
      429: problem('too many requests for this address or from this source'),
    },
  },
  {
    method: 'post',
    path: 'auth/password/reset',
    summary: 'Set a password with a one-time link (an invitation or a reset)',
    tags: ['Passwords'],
    auth: 'none',
    body: resetPasswordBody,
    responses: {
      200: { description: 'the password is set', schema: resetAnswer },
      400: problem('invalid, used or expired link, or a password that is too short'),
    },
  },
  {
    method: 'get',
    path: 'admin/sites/:site',
    summary: "The site's record",
    tags: ['Site account'],
    responses: {
      200: { description: 'the site', schema: siteAccount },
      ...denied,
      404: problem('no such site'),
    },
  },
  {
    method: 'patch',
    path: 'admin/sites/:site',
    summary:
      'Change the site name, clinical administrator e-mail (both addresses are e-mailed), language or time zone',
    tags: ['Site account'],
    body: updateSiteAccountBody,
    responses: {
      200: { description: 'the site as changed', schema: siteAccount },
      400: problem('a field is not valid (details name it)'),
      ...denied,
    },
  },
  {
    method: 'get',
    path: 'admin/sites/:site/admins',
    summary: "The site's administrators",
    tags: ['Site account'],
    responses: { 200: { description: 'the administrators', schema: siteAdminList }, ...denied },
  },
  {
    method: 'post',
    path: 'admin/sites/:site/admins',
    summary: 'Invite an administrator (an e-mail with a one-time link to set a password)',
    tags: ['Site account'],
    body: inviteAdminBody,
    responses: {
      201: { description: 'invited, or granted to an existing account', schema: inviteAnswer },
      400: problem('not an e-mail address'),
      ...denied,
      409: problem('already an administrator of this site'),
    },
  },
  {
    method: 'delete',
    path: 'admin/sites/:site/admins/:userId',
    summary: "Remove an administrator's role at the site (never the last administrator)",
    tags: ['Site account'],
    responses: {
      204: { description: 'removed' },
      ...denied,
      404: problem('no such administrator at this site'),
      409: problem('the last administrator of the site'),
    },
  },
  {
    method: 'post',
    path: 'admin/sites/:site/admins/:userId/reset',
    summary: 'E-mail an administrator a one-time link to choose a new password',
    tags: ['Site account'],
    responses: {
      202: { description: 'sent', schema: acceptedAnswer },
      ...denied,
      404: problem('no such administrator at this site'),
    },
  },
  {
    method: 'post',
    path: 'sites/:site/sek',
    summary: 'Store the Shared Encryption Key',
    tags: ['Shared Encryption Key'],
    body: sekBody,
    responses: {
      201: { description: 'stored', schema: sekVersion },
      400: problem('not a 32-byte key'),
      ...denied,
      409: problem('already stored'),
    },
  },
  {
    method: 'put',
    path: 'sites/:site/sek',
    summary: 'Replace the Shared Encryption Key',
    tags: ['Shared Encryption Key'],
    body: sekBody,
    responses: {
      200: { description: 'replaced', schema: sekVersion },
      400: problem('not a 32-byte key'),
      ...denied,
    },
  },
  {
    method: 'get',
    path: 'sites/:site/sek',
    summary:
      'View the Shared Encryption Key (a sign-in within 5 minutes; the clinical administrator is e-mailed)',
    tags: ['Shared Encryption Key'],
    responses: { 200: { description: 'the key' }, ...denied, 404: problem('no key stored') },
  },
  {
    method: 'delete',
    path: 'sites/:site/sek',
    summary: 'Remove the Shared Encryption Key (a sign-in within 5 minutes)',
    tags: ['Shared Encryption Key'],
    responses: { 200: { description: 'removed' }, ...denied, 404: problem('no key stored') },
  },
  {
    method: 'post',
    path: 'sites/:site/sek/restore',
    summary: 'Bring a removed Shared Encryption Key back within its recovery window',
    tags: ['Shared Encryption Key'],
    responses: { 200: { description: 'restored' }, ...denied, 409: problem('the key is not removed') },
  },
  {
    method: 'post',
    path: 'sites/:site/sek/destroy-approval',
    summary: 'Approve destroying a removed key (a second administrator, not the one who removed it)',
    tags: ['Shared Encryption Key'],
    responses: {
      200: { description: 'approved' },
      ...denied,
      409: problem('the key is not removed'),
    },
  },
  {
    method: 'post',
    path: 'sites/:site/sek/destroy',
    summary: 'Destroy a removed key for good (after the recovery window, once approved)',
    tags: ['Shared Encryption Key'],
    responses: {
      200: { description: 'destroyed' },
      ...denied,
      409: problem('not removed, the window has not passed, or not approved'),
    },
  },
  {
    method: 'get',
    path: 'sites/:site/sek/history',
    summary: 'Who stored, viewed, replaced or removed the key, and when',
    tags: ['Shared Encryption Key'],
    responses: { 200: { description: 'the events' }, ...denied },
  },
  {
    method: 'get',
    path: 'sites/:site/audit',
    summary: 'The audit log, filtered by time, actor and action (JSON or CSV)',
    tags: ['Audit'],
    query: auditQueryInput,
    responses: {
      200: { description: 'the entries (JSON, or CSV with format=csv)' },
      400: problem('a filter is not valid'),
      ...denied,
    },
  },
  {
    method: 'get',
    path: 'sites/:site/audit/verify',
    summary: "Verify the audit log's hash chain",
    tags: ['Audit'],
    responses: { 200: { description: 'the verification result' }, ...denied },
  },
  {
    method: 'get',
    path: 'operator/whoami',
    summary: 'The operator the presented credential belongs to',
    tags: ['Operator'],
    auth: 'operator',
    responses: { 200: { description: 'the operator' }, 401: problem('not an operator credential') },
  },
  {
    method: 'post',
    path: 'operator/sites',
    summary: 'Register a site (site.registered reaches every service)',
    tags: ['Operator'],
    auth: 'operator',
    responses: {
      201: { description: 'registered' },
      400: problem('a field is not valid'),
      401: problem('not an operator credential'),
      409: problem('the site number is taken'),
    },
  },
  {
    method: 'post',
    path: 'operator/sites/:site/users',
    summary: "Create a person with a role at the site (e.g. the site's first administrator)",
    tags: ['Operator'],
    auth: 'operator',
    body: createUserBody,
    responses: {
      201: { description: 'created' },
      400: problem('a field is not valid'),
      401: problem('not an operator credential'),
      409: problem('the e-mail is taken'),
    },
  },
  {
    method: 'post',
    path: 'operator/sites/:site/grants',
    summary: 'Give an existing person a role at the site',
    tags: ['Operator'],
    auth: 'operator',
    body: grantBody,
    responses: {
      200: { description: 'granted' },
      400: problem('a field is not valid'),
      401: problem('not an operator credential'),
      404: problem('no such person or site'),
    },
  },
];

export const { document: vaultOpenApi, controller: OpenApiController } = adminOpenApi(
  'Cloud Connect vault service: admin API',
  'Sign-in, password links, the site account, the Shared Encryption Key and the audit trail.',
  VAULT_ADMIN_ROUTES,
);
