import { addServiceRequestWithQuirks, appointmentFor } from '@cloud-connect/testing';
import { validateInbound } from '../fhir-messages/inbound-validation';
import { patientContactOf } from './patient-contact';

/** The bundle typed as the endpoint has it: after validation. */
function validated(bundle: unknown) {
  const checked = validateInbound(Buffer.from(JSON.stringify(bundle)), {
    maxDepth: 40,
    maxArrayLength: 5000,
  });
  if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
  return checked.bundle;
}

describe('the patient an appointment message is about', () => {
  it('reads phone (as E.164), e-mail and French from the bundle Patient', () => {
    const bundle = appointmentFor(addServiceRequestWithQuirks(), {
      appointmentId: 'a1',
      status: 'booked',
      start: '2026-12-03T09:30:00-05:00',
    });
    const entries = bundle['entry'] as { resource: Record<string, unknown> }[];
    const patient = entries.find((e) => e.resource['resourceType'] === 'Patient')?.resource ?? {};
    patient['telecom'] = [
      ...(patient['telecom'] as unknown[]),
      { system: 'email', value: 'marie@example.ca' },
    ];
    expect(patientContactOf(validated(bundle), 'a1')).toEqual({
      ref: patient['id'],
      locale: 'fr',
      email: 'marie@example.ca',
      phone: '+14165550142',
    });
  });

  it('is null when the message carries no Patient', () => {
    expect(patientContactOf({ resourceType: 'Bundle', type: 'message', entry: [] }, 'a1')).toBeNull();
  });
});
