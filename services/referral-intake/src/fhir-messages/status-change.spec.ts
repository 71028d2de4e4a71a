import {
  addServiceRequestWithQuirks,
  appointmentFor,
  notifyUpdateStatus,
  serviceRequestIdOf,
  statusUpdateFor,
} from '@cloud-connect/testing';
import { validateInbound } from './inbound-validation';
import { statusChangeOf } from './status-change';

type Json = Record<string, unknown>;
const limits = { maxDepth: 40, maxArrayLength: 5000 };

/** Validates like the endpoint does, then reads the change. */
function changeOf(bundle: Json) {
  const checked = validateInbound(Buffer.from(JSON.stringify(bundle)), limits);
  if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
  return statusChangeOf(checked.bundle, checked.facts.eventCode);
}

describe('status back: what a notify-update-status / notify-*-appointment message changes', () => {
  const referral = addServiceRequestWithQuirks();
  const srId = serviceRequestIdOf(referral);

  it.each([
    ['accepted', 'active'],
    ['in-progress', 'active'],
    ['on-hold', 'on-hold'],
    ['rejected', 'revoked'],
    ['cancelled', 'revoked'],
    ['completed', 'completed'],
  ])('maps Task.status %s to ServiceRequest.status %s', (taskStatus, status) => {
    expect(changeOf(statusUpdateFor(referral, { taskStatus, timestamp: '2026-11-22T10:00:00Z' }))).toEqual({
      change: {
        kind: 'referral-status',
        serviceRequestId: srId,
        status,
        taskStatus,
        messageTimestamp: '2026-11-22T10:00:00Z',
      },
    });
  });

  it('keeps a business status code, never its display text', () => {
    const found = changeOf(
      statusUpdateFor(referral, {
        taskStatus: 'accepted',
        businessStatus: { code: 'booked', display: 'Booked for Dec 3 with Dr. Singh' },
      }),
    );
    expect(found).toMatchObject({ change: { businessStatus: 'booked' } });
    expect(JSON.stringify(found)).not.toContain('Singh');
  });

  it('ignores a free-text-only business status (it may hold PHI)', () => {
    const found = changeOf(notifyUpdateStatus());
    expect(found).toMatchObject({ change: { kind: 'referral-status', status: 'active' } });
    expect(
      found && 'change' in found && found.change.kind === 'referral-status' && found.change.businessStatus,
    ).toBe(undefined);
  });

  it('reads a booked appointment with its times and referral', () => {
    const found = changeOf(
      appointmentFor(referral, {
        appointmentId: 'appt-1',
        status: 'booked',
        start: '2026-12-03T09:30:00-05:00',
        end: '2026-12-03T10:00:00-05:00',
        timestamp: '2026-11-22T10:00:00Z',
      }),
    );
    expect(found).toEqual({
      change: {
        kind: 'appointment',
        appointmentId: 'appt-1',
        serviceRequestId: srId,
        status: 'booked',
        start: '2026-12-03T09:30:00-05:00',
        end: '2026-12-03T10:00:00-05:00',
        messageTimestamp: '2026-11-22T10:00:00Z',
      },
    });
  });

  it('treats notify-revoke-appointment as a cancellation whatever status it carries', () => {
    const found = changeOf(
      appointmentFor(referral, {
        event: 'notify-revoke-appointment',
        status: 'booked',
        start: '2026-12-03T09:30:00Z',
      }),
    );
    expect(found).toMatchObject({ change: { kind: 'appointment', status: 'cancelled' } });
  });

  it('refuses a booked appointment without a start time, naming where', () => {
    expect(changeOf(appointmentFor(referral, { status: 'booked' }))).toEqual({
      issues: [expect.objectContaining({ code: 'required', expression: 'Bundle.entry[1].resource.start' })],
    });
  });

  it('is not about status for other events', () => {
    const checked = validateInbound(Buffer.from(JSON.stringify(referral)), limits);
    if (!checked.ok) throw new Error('fixture invalid');
    expect(statusChangeOf(checked.bundle, checked.facts.eventCode)).toBeNull();
  });
});
