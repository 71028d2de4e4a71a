/**
 * What a referrer receives about a referral they sent: declined, or its appointment booked, in
 * English or French. Only the clinic's name and the appointment's date and time in the clinic's
 * zone: never the patient's name, the reason for referral or other clinical detail (the referrer
 * knows which referral from their own records; the clinic's portal has the rest).
 */
import { need, type Locale, type Params, type Rendered } from './template-kit';
import { localWhen } from './patient-templates';

export const REFERRER_TEMPLATES: Record<string, (locale: Locale, p: Params) => Rendered> = {
  'referral.booked': (locale, params) => {
    const p = need('referral.booked', params, 'siteName', 'at');
    const when = localWhen(p.at, locale, params['timezone'] ?? 'America/Toronto');
    return locale === 'fr'
      ? {
          subject: `Rendez-vous fixé pour votre demande de consultation — ${p.siteName}`,
          text: `Un rendez-vous a été fixé à ${p.siteName} le ${when} pour une demande de consultation que vous avez envoyée.\n\nCe message ne contient aucun renseignement clinique.`,
        }
      : {
          subject: `Appointment booked for your referral — ${p.siteName}`,
          text: `An appointment at ${p.siteName} on ${when} has been booked for a referral you sent.\n\nThis message contains no clinical information.`,
        };
  },
  'referral.declined': (locale, params) => {
    const p = need('referral.declined', params, 'siteName');
    return locale === 'fr'
      ? {
          subject: `Demande de consultation refusée — ${p.siteName}`,
          text: `${p.siteName} a refusé une demande de consultation que vous avez envoyée. Consultez votre système de demandes de consultation ou communiquez avec la clinique pour les détails.\n\nCe message ne contient aucun renseignement clinique.`,
        }
      : {
          subject: `Referral declined — ${p.siteName}`,
          text: `${p.siteName} has declined a referral you sent. See your eReferral system or contact the clinic for details.\n\nThis message contains no clinical information.`,
        };
  },
};
