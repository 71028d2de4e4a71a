import type { Bundle, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { referrerContactOf } from './referrer-contact';

const bundle = (requester: NonNullable<ServiceRequest['requester']>, extra: Resource[] = []): Bundle => ({
  resourceType: 'Bundle',
  type: 'message',
  entry: [
    {
      fullUrl: 'urn:uuid:sr',
      resource: {
        resourceType: 'ServiceRequest',
        id: 'sr',
        status: 'active',
        intent: 'order',
        subject: { reference: 'urn:uuid:p' },
        requester,
      },
    },
    ...extra.map((resource) => ({ fullUrl: `urn:uuid:${String(resource.id)}`, resource })),
  ],
});

describe('the referrer of a referral', () => {
  it('takes the PractitionerRole telecom first, then the Practitioner, with its language', () => {
    const contact = referrerContactOf(
      bundle({ reference: 'urn:uuid:role' }, [
        {
          resourceType: 'PractitionerRole',
          id: 'role',
          practitioner: { reference: 'urn:uuid:doc' },
          telecom: [
            { system: 'fax', value: '416-555-0199' },
            { system: 'email', value: 'office@clinic.example' },
          ],
        },
        {
          resourceType: 'Practitioner',
          id: 'doc',
          telecom: [
            { system: 'email', value: 'doc@clinic.example' },
            { system: 'phone', value: '(416) 555-0100' },
          ],
          communication: [{ coding: [{ code: 'fr-CA' }] }],
        },
      ]),
      'sr',
    );
    expect(contact).toEqual({ locale: 'fr', email: 'office@clinic.example', phone: '+14165550100' });
  });

  it('reads a Practitioner requester, and gives nothing without a contact or a requester', () => {
    const doc: Resource = {
      resourceType: 'Practitioner',
      id: 'doc',
      telecom: [{ system: 'email', value: 'a@b.ca' }],
    };
    expect(referrerContactOf(bundle({ reference: 'Practitioner/doc' }, [doc]), 'sr')).toEqual({
      locale: undefined,
      email: 'a@b.ca',
      phone: undefined,
    });
    const faxOnly: Resource = {
      resourceType: 'Practitioner',
      id: 'doc',
      telecom: [{ system: 'fax', value: '416-555-0199' }],
    };
    expect(referrerContactOf(bundle({ reference: 'urn:uuid:doc' }, [faxOnly]), 'sr')).toBeNull();
    expect(referrerContactOf(bundle({ reference: 'urn:uuid:missing' }), 'sr')).toBeNull();
    expect(referrerContactOf(bundle({ reference: 'urn:uuid:doc' }, [doc]), 'other-sr')).toBeNull();
  });
});
