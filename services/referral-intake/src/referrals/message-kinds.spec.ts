import type { StatusChange } from '../fhir-messages/status-change';
import { kindOf, MESSAGE_KINDS, roleRefusal } from './message-kinds';
import type { Sender } from './sender';

const change = (status: 'active' | 'on-hold' | 'revoked' | 'completed'): StatusChange => ({
  kind: 'referral-status',
  serviceRequestId: 'sr-1',
  status,
  messageTimestamp: null,
});
const integration = (id: string, receivesCopies: boolean): Sender => ({
  kind: 'integration',
  site: '4101',
  id,
  rateLimitPerSecond: null,
  receivesCopies,
});
const client = (scopes: string[]): Sender => ({ kind: 'oauth-client', site: '4101', id: '4101.c', scopes });
const origin = { integrationId: 'sender' };

describe('status back role rule', () => {
  it.each([
    ['its sender, cancelling', integration('sender', false), 'revoked', null],
    ['its sender, cancelling (even if it gets copies)', integration('sender', true), 'revoked', null],
    ['its sender, putting it on hold', integration('sender', true), 'on-hold', 403],
    ['its sender, completing it', integration('sender', false), 'completed', 403],
    ['an integration that gets copies', integration('emr', true), 'on-hold', null],
    ['an integration that gets no copies', integration('chr-2', false), 'on-hold', 403],
    ['an integration that gets no copies, cancelling', integration('chr-2', false), 'revoked', 403],
    [
      'a client that reads referrals',
      client(['system/ServiceRequest.rs', 'system/Task.u']),
      'completed',
      null,
    ],
    ['a client with system/*.read', client(['system/*.read', 'system/Task.u']), 'on-hold', null],
    ['a client that only writes Tasks', client(['system/Task.u']), 'on-hold', 403],
  ] as const)('%s → %s', (_who, sender, status, expected) => {
    const refusal = roleRefusal(sender, origin, change(status));
    expect(refusal?.status ?? null).toBe(expected);
    if (refusal) expect(JSON.stringify(refusal.body)).toContain('OperationOutcome');
  });
});

describe('message kinds', () => {
  it('cover each eReferral event exactly once', () => {
    const events = MESSAGE_KINDS.flatMap((k) => k.events);
    expect(new Set(events).size).toBe(events.length);
    expect(kindOf('add-service-request')?.name).toBe('referral');
    expect(kindOf('notify-update-status')?.name).toBe('status');
    expect(kindOf('order-pizza')).toBeUndefined();
  });
});
