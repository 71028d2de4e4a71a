/**
 * What patients receive: appointment reminders and the notices of their referral's appointment
 * (booked, moved, cancelled), in English or French. Only what such notices show: the clinic's
 * name, the date and time in the clinic's zone; never a reason for referral or other clinical
 * detail. Every message says how to stop reminders (the signed link; by SMS, reply STOP).
 */
import { need, type Locale, type Params, type Rendered } from './template-kit';

export function localWhen(iso: string, locale: Locale, timeZone: string): string {
  return new Intl.DateTimeFormat(locale === 'fr' ? 'fr-CA' : 'en-CA', {
    dateStyle: 'full',
    timeStyle: 'short',
    timeZone,
  }).format(new Date(iso));
}

function stopLine(locale: Locale, params: Params): string {
  const url = params['stopUrl'];
  if (locale === 'fr')
    return url
      ? `Pour ne plus recevoir de rappels : ${url} (par texto, répondez ARRET).`
      : `Pour ne plus recevoir de rappels, répondez ARRET.`;
  return url ? `To stop reminders: ${url} (by text, reply STOP).` : `To stop reminders, reply STOP.`;
}

type Kind = 'reminder' | 'booked' | 'moved' | 'cancelled';

const WORDS: Record<Kind, Record<Locale, { subject: string; line: string }>> = {
  reminder: {
    en: { subject: 'Appointment reminder', line: 'Reminder: you have an appointment at {clinic} on {when}.' },
    fr: { subject: 'Rappel de rendez-vous', line: 'Rappel : vous avez un rendez-vous à {clinic} le {when}.' },
  },
  booked: {
    en: { subject: 'Appointment booked', line: 'Your appointment at {clinic} is booked for {when}.' },
    fr: { subject: 'Rendez-vous fixé', line: 'Votre rendez-vous à {clinic} est fixé au {when}.' },
  },
  moved: {
    en: { subject: 'Appointment changed', line: 'Your appointment at {clinic} has moved to {when}.' },
    fr: { subject: 'Rendez-vous modifié', line: 'Votre rendez-vous à {clinic} a été déplacé au {when}.' },
  },
  cancelled: {
    en: { subject: 'Appointment cancelled', line: 'Your appointment at {clinic} on {when} is cancelled.' },
    fr: { subject: 'Rendez-vous annulé', line: 'Votre rendez-vous à {clinic} le {when} est annulé.' },
  },
};

function patientTemplate(template: string, kind: Kind) {
  return (locale: Locale, params: Params): Rendered => {
    const p = need(template, params, 'siteName', 'at');
    const when = localWhen(p.at, locale, params['timezone'] ?? 'America/Toronto');
    const words = WORDS[kind][locale];
    const line = words.line.replace('{clinic}', p.siteName).replace('{when}', when);
    return { subject: `${words.subject} — ${p.siteName}`, text: `${line}\n\n${stopLine(locale, params)}` };
  };
}

export const PATIENT_TEMPLATES: Record<string, (locale: Locale, p: Params) => Rendered> = {
  'reminder.appointment': patientTemplate('reminder.appointment', 'reminder'),
  'appointment.booked': patientTemplate('appointment.booked', 'booked'),
  'appointment.moved': patientTemplate('appointment.moved', 'moved'),
  'appointment.cancelled': patientTemplate('appointment.cancelled', 'cancelled'),
};
