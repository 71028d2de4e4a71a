import type { appointmentChangedV1 } from '@cloud-connect/contracts';
import type { Bundle, ContactPoint, Patient } from '@medplum/fhirtypes';
import type { z } from 'zod';
import type { PhiCipher } from '../crypto/phi-cipher';

/** What travels with `appointment.changed` about the patient (contact details sealed). */
export type AppointmentPatient = NonNullable<z.infer<typeof appointmentChangedV1>['patient']>;

export interface PatientContact {
  ref: string;
  locale: 'en' | 'fr' | undefined;
  email: string | undefined;
  /** E.164 (a 10-digit North American number gets +1). */
  phone: string | undefined;
}

export function e164(value: string): string | undefined {
  const digits = value.replace(/[^0-9+]/g, '');
  if (/^\+[1-9][0-9]{6,14}$/.test(digits)) return digits;
  if (/^1?[2-9][0-9]{9}$/.test(digits)) return `+1${digits.slice(-10)}`;
  return undefined;
}

/** The patient's language from Patient.communication (the preferred one first). */
function localeOf(patient: Patient): 'en' | 'fr' | undefined {
  const comms = [...(patient.communication ?? [])];
  comms.sort((a, b) => Number(b.preferred === true) - Number(a.preferred === true));
  for (const c of comms) {
    for (const code of (c.language.coding ?? []).map((x) => x.code?.toLowerCase() ?? '')) {
      if (code.startsWith('fr')) return 'fr';
      if (code.startsWith('en')) return 'en';
    }
  }
  return undefined;
}

/** Phones that take text messages (mobile, sms) first. */
const bySmsFirst = (a: ContactPoint, b: ContactPoint): number =>
  Number(b.use === 'mobile' || b.system === 'sms') - Number(a.use === 'mobile' || a.system === 'sms');

/**
 * The patient an appointment message is about (the Appointment's participant, else the bundle's
 * Patient) and how to reach them: e-mail, mobile/home phone, language. Pure; null without a Patient.
 */
export function patientContactOf(bundle: Bundle, appointmentId: string): PatientContact | null {
  const entries = bundle.entry ?? [];
  const appointment = entries
    .map((e) => e.resource)
    .find((r) => r?.resourceType === 'Appointment' && r.id === appointmentId);
  const refs =
    appointment?.resourceType === 'Appointment'
      ? appointment.participant.map((p) => p.actor?.reference ?? '')
      : [];
  const patients = entries.flatMap((e) =>
    e.resource?.resourceType === 'Patient' ? [{ fullUrl: e.fullUrl ?? '', resource: e.resource }] : [],
  );
  const patient =
    patients.find((p) =>
      refs.some(
        (ref) =>
          ref === p.fullUrl ||
          ref === `Patient/${String(p.resource.id)}` ||
          ref.endsWith(`:${String(p.resource.id)}`),
      ),
    ) ?? patients[0];
  if (patient?.resource.id === undefined) return null;
  const telecom = patient.resource.telecom ?? [];
  const email = telecom.find((t) => t.system === 'email' && t.value !== undefined)?.value;
  const phone = telecom
    .filter((t) => (t.system === 'phone' || t.system === 'sms') && t.value !== undefined)
    .sort(bySmsFirst)
    .map((p) => e164(String(p.value)))
    .find((p) => p !== undefined);
  return {
    ref: patient.resource.id,
    locale: localeOf(patient.resource),
    email: email && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) ? email : undefined,
    phone,
  };
}

/** The vault service record id the sealed contact is bound to (with the site). */
export function contactRecordId(messageId: string): string {
  return `patient-contact/${messageId}`;
}

/** Seals the contact details for the site (the notifier opens them at send time). */
export async function sealPatient(
  cipher: PhiCipher,
  site: string,
  messageId: string,
  contact: PatientContact,
): Promise<AppointmentPatient> {
  const recordId = contactRecordId(messageId);
  const plaintext = Buffer.from(
    JSON.stringify({
      ...(contact.email ? { email: contact.email } : {}),
      ...(contact.phone ? { phone: contact.phone } : {}),
    }),
    'utf8',
  );
  const envelope = await cipher.encrypt(site, recordId, plaintext);
  return {
    ref: contact.ref,
    ...(contact.locale ? { locale: contact.locale } : {}),
    channels: [...(contact.email ? (['email'] as const) : []), ...(contact.phone ? (['sms'] as const) : [])],
    recordId,
    sealed: { alg: 'cc-phi-envelope-v1', envelope: envelope.toString('base64') },
  };
}

/** For an appointment change: the patient of the message, sealed; otherwise undefined. */
export async function sealedPatientOf(
  cipher: PhiCipher,
  site: string,
  bundle: Bundle,
  change: { kind: string; appointmentId?: string } | null,
  messageId: string,
): Promise<AppointmentPatient | undefined> {
  if (change?.kind !== 'appointment' || !change.appointmentId) return undefined;
  const contact = patientContactOf(bundle, change.appointmentId);
  return contact ? sealPatient(cipher, site, messageId, contact) : undefined;
}
