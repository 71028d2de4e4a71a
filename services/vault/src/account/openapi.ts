import { adminOpenApi, problemResponse, type ApiResponse, type ApiRoute } from '@cloud-connect/service-kit';
import { z } from 'zod';
import { auditQueryInput } from '../audit/audit-trail';
import {
  changePasswordBody,
  confirmTotpBody,
  reauthBody,
  refreshBody,
  signInBody,
} from '../identity/identity.controller';
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
  refresh_token: z.string().optional(),
  session_id: z.uuid(),
});
const sessionList = z.object({
  sessions: z.array(
    z.object({
      id: z.uuid(),
      createdAt: z.string(),
      lastSeenAt: z.string(),
      sourceAddress: z.string(),
      userAgent: z.string().nullable(),
      signedInWith: z.array(z.enum(['pwd', 'otp'])),
      current: z.boolean(),
    }),
  ),
});
const mfaStatus = z.object({
  totp: z.enum(['none', 'pending', 'active']),
  recoveryCodesLeft: z.number().int(),
});
const signingKeys = z.object({
  kid: z.string(),
  retired: z.array(z.object({ kid: z.string(), acceptedUntil: z.string() })),
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
    summary:
      'Sign in with e-mail and password (and the authenticator code once set up): a 5-minute admin token, a session and its refresh token',
    tags: ['Sessions'],
    auth: 'none',
    body: signInBody,
    responses: {
      200: { description: 'signed in', schema: issuedToken },
      401: problem('e-mail or password is incorrect (invalid-credentials), code-required, invalid-code'),
      429: problem('too many failed sign-ins'),
    },
  },
  {
    method: 'post',
    path: 'auth/reauthenticate',
    summary:
      'Prove the password (and code) again: the step-up for actions that can move data out (within 5 minutes)',
    tags: ['Sessions'],
    body: reauthBody,
    responses: { 200: { description: 'a fresh token', schema: issuedToken }, 401: problem('wrong password') },
  },
  {
    method: 'post',
    path: 'auth/refresh',
    summary:
      'A new access token for an open session, from a valid access token or the refresh token (at most 8 hours after the last password)',
    tags: ['Sessions'],
    body: refreshBody,
    responses: {
      200: { description: 'a new token', schema: issuedToken },
      401: problem('session-revoked, session-too-old: sign in again'),
    },
  },
  {
    method: 'post',
    path: 'auth/logout',
    summary: 'Sign out: end this session',
    tags: ['Sessions'],
    responses: { 204: { description: 'signed out' }, 401: problem('no open session') },
  },
  {
    method: 'post',
    path: 'auth/logout-everywhere',
    summary: 'Sign out everywhere: end every session of the person',
    tags: ['Sessions'],
    responses: {
      200: { description: 'how many sessions ended', schema: z.object({ revoked: z.number().int() }) },
      401: problem('no open session'),
    },
  },
  {
    method: 'get',
    path: 'auth/sessions',
    summary: 'The open sessions of the person (where and when they signed in)',
    tags: ['Sessions'],
    responses: { 200: { description: 'the sessions', schema: sessionList }, 401: problem('no open session') },
  },
  {
    method: 'delete',
    path: 'auth/sessions/:id',
    summary: 'End one of the person’s sessions',
    tags: ['Sessions'],
    responses: { 204: { description: 'ended' }, 404: problem('no such open session of yours') },
  },
  {
    method: 'get',
    path: 'auth/mfa',
    summary: 'The person’s second factor: none, pending (set-up started) or active',
    tags: ['Sessions'],
    responses: { 200: { description: 'its state', schema: mfaStatus } },
  },
  {
    method: 'post',
    path: 'auth/mfa/totp',
    summary:
      'Start setting up an authenticator app (sign-in within 5 minutes): the secret, shown once, as otpauth:// URI and base32',
    tags: ['Sessions'],
    responses: {
      201: {
        description: 'the secret',
        schema: z.object({ otpauthUri: z.string(), secret: z.string() }),
      },
      401: problem('step-up-required'),
      409: problem('totp-already-enrolled'),
    },
  },
  {
    method: 'post',
    path: 'auth/mfa/totp/confirm',
    summary: 'Confirm the authenticator app with its first code: ten single-use recovery codes, shown once',
    tags: ['Sessions'],
    body: confirmTotpBody,
    responses: {
      200: {
        description: 'set up',
        schema: z.object({ recoveryCodes: z.array(z.string()), message: z.string() }),
      },
      400: problem('invalid-code'),
      409: problem('totp-not-started'),
    },
  },
  {
    method: 'post',
    path: 'auth/password/change',
    summary:
      'Change the password (current password, and code once set up); a weak or breached one is refused; other sessions end',
    tags: ['Sessions'],
    body: changePasswordBody,
    responses: {
      200: {
        description: 'changed',
        schema: z.object({ otherSessionsSignedOut: z.number().int() }),
      },
      400: problem('weak-password'),
      401: problem('wrong password or code'),
    },
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
    method: 'post',
    path: 'operator/signing-keys/rotate',
    summary:
      'Replace the key that signs admin tokens now; the replaced one verifies until ADMIN_SIGNING_KEY_OVERLAP_SECONDS',
    tags: ['Operator'],
    auth: 'operator',
    responses: { 200: { description: 'the new key and the replaced ones', schema: signingKeys } },
  },
  {
    method: 'get',
    path: 'operator/signing-keys',
    summary: 'The key that signs admin tokens and the replaced keys still accepted',
    tags: ['Operator'],
    auth: 'operator',
    responses: { 200: { description: 'the keys in use', schema: signingKeys } },
  },
  {
    method: 'get',
    path: 'operator/audit/verify',
    summary:
      "Recompute every site's audit chain (or one: ?site=) and compare it with its anchor in Vault; names the first bad entry",
    tags: ['Operator'],
    auth: 'operator',
    responses: {
      200: { description: 'ok, and per site the chain length, the anchor and the first bad sequence number' },
      400: problem('invalid-site'),
      401: problem('not an operator credential'),
    },
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
