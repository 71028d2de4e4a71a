import type { Bundle, CodeableConcept, ContactPoint, Resource } from '@medplum/fhirtypes';
import type { EntityManager } from 'typeorm';
import type { z } from 'zod';
import type { referralStatusChangedV1 } from '@cloud-connect/contracts';
import type { PhiCipher } from '../crypto/phi-cipher';
import type { StatusChange } from '../fhir-messages/status-change';
import { ReferralReadsRepository } from '../fhir-api/referral-reads.repository';
import { e164 } from './patient-contact';

/** What travels with a status event about the referrer (contact details sealed). */
export type SealedReferrer = NonNullable<z.infer<typeof referralStatusChangedV1>['referrer']>;

export interface ReferrerContact {
  locale: 'en' | 'fr' | undefined;
  email: string | undefined;
  phone: string | undefined;
}

/** A language from CodeableConcepts (Practitioner.communication), `fr*` or `en*`. */
function localeOf(concepts: CodeableConcept[]): 'en' | 'fr' | undefined {
  for (const code of concepts.flatMap((c) => c.coding ?? []).map((c) => c.code?.toLowerCase() ?? '')) {
    if (code.startsWith('fr')) return 'fr';
    if (code.startsWith('en')) return 'en';
  }
  return undefined;
}

function telecomOf(resource: Resource | undefined): ContactPoint[] {
  return resource && 'telecom' in resource ? (resource.telecom ?? []) : [];
}

/**
 * The referrer of a referral bundle: its ServiceRequest's requester (a PractitionerRole, whose
 * telecom comes first, and its Practitioner; or a Practitioner), with an e-mail, a phone in E.164
 * and a language (Practitioner.communication). Pure; null without a requester or any contact.
 */
export function referrerContactOf(bundle: Bundle, serviceRequestId: string): ReferrerContact | null {
  const entries = (bundle.entry ?? []).flatMap((e) =>
    e.resource ? [{ fullUrl: e.fullUrl ?? '', resource: e.resource }] : [],
  );
  const resolve = (reference: string | undefined): Resource | undefined => {
    if (!reference) return undefined;
    return entries.find(
      (e) =>
        e.fullUrl === reference ||
        reference === `${e.resource.resourceType}/${String(e.resource.id)}` ||
        reference.endsWith(`:${String(e.resource.id)}`),
    )?.resource;
  };
  const request = entries.find(
    (e) => e.resource.resourceType === 'ServiceRequest' && e.resource.id === serviceRequestId,
  )?.resource;
  const requester = resolve(
    request?.resourceType === 'ServiceRequest' ? request.requester?.reference : undefined,
  );
  if (!requester) return null;
  const practitioner =
    requester.resourceType === 'PractitionerRole' ? resolve(requester.practitioner?.reference) : requester;
  const telecom = [...telecomOf(requester), ...telecomOf(practitioner)];
  const email = telecom.find((t) => t.system === 'email' && t.value !== undefined)?.value;
  const phone = telecom
    .filter((t) => (t.system === 'phone' || t.system === 'sms') && t.value !== undefined)
    .map((t) => e164(String(t.value)))
    .find((p) => p !== undefined);
  const contact = {
    locale: localeOf(practitioner?.resourceType === 'Practitioner' ? (practitioner.communication ?? []) : []),
    email: email && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) ? email : undefined,
    phone,
  };
  return contact.email || contact.phone ? contact : null;
}

/** The vault service record id the sealed referrer contact is bound to (with the site). */
export function referrerRecordId(messageId: string): string {
  return `referrer-contact/${messageId}`;
}

/**
 * For a status change the referrer hears about (declined: Task rejected; an appointment booked):
 * the referrer of the site's referral, from its stored original bundle, sealed for the site.
 */
export async function sealedReferrerOf(
  deps: { cipher: PhiCipher; schema: string; db: Pick<EntityManager, 'query'> },
  site: string,
  change: StatusChange,
  messageId: string,
): Promise<SealedReferrer | undefined> {
  const declined = change.kind === 'referral-status' && change.taskStatus === 'rejected';
  const booked = change.kind === 'appointment' && change.status === 'booked';
  if ((!declined && !booked) || !change.serviceRequestId) return undefined;
  const version = await new ReferralReadsRepository(deps.schema).current(
    deps.db,
    site,
    change.serviceRequestId,
  );
  if (!version) return undefined;
  // Stored only after it passed validation (fhir-messages/inbound-validation.ts): an R4 Bundle.
  const bundle = JSON.parse(
    (await deps.cipher.decrypt(site, version.referralId, version.ciphertext)).toString('utf8'),
  ) as Bundle;
  const contact = referrerContactOf(bundle, change.serviceRequestId);
  if (!contact) return undefined;
  const recordId = referrerRecordId(messageId);
  const plaintext = JSON.stringify({
    ...(contact.email ? { email: contact.email } : {}),
    ...(contact.phone ? { phone: contact.phone } : {}),
  });
  const envelope = await deps.cipher.encrypt(site, recordId, Buffer.from(plaintext, 'utf8'));
  return {
    ...(contact.locale ? { locale: contact.locale } : {}),
    channels: [...(contact.email ? (['email'] as const) : []), ...(contact.phone ? (['sms'] as const) : [])],
    recordId,
    sealed: { alg: 'cc-phi-envelope-v1', envelope: envelope.toString('base64') },
  };
}
