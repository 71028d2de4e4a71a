/**
 * Message templates in English and French. A template turns the request's params into a subject
 * and a plain-text body (and an SMS text); params are inserted as text, never as markup.
 */
import { ACCOUNT_TEMPLATES } from './account-templates';
import { EMR_TEMPLATES } from './emr-templates';
import { MissingParamError, UnknownTemplateError } from '../common/notification-error';
import { need, when, type Locale, type Params, type Rendered } from './template-kit';
import { PATIENT_TEMPLATES } from './patient-templates';
import { REFERRER_TEMPLATES } from './referrer-templates';

export { MissingParamError, UnknownTemplateError };
export type { Locale, Params, Rendered } from './template-kit';

const SEK_ACTIONS: Record<Locale, Record<string, string>> = {
  en: {
    view: 'viewed',
    store: 'stored',
    replace: 'replaced',
    remove: 'removed (recoverable during the recovery window)',
    restore: 'restored',
    'approve-destroy': 'approved for destruction',
    destroy: 'destroyed for good',
  },
  fr: {
    view: 'consulté',
    store: 'enregistré',
    replace: 'remplacé',
    remove: 'supprimé (récupérable pendant la période de récupération)',
    restore: 'restauré',
    'approve-destroy': 'approuvé pour destruction',
    destroy: 'détruit définitivement',
  },
};
const SEK_OUTCOMES: Record<Locale, Record<string, string>> = {
  en: { allowed: 'succeeded', denied: 'was refused', failed: 'failed' },
  fr: { allowed: 'a réussi', denied: 'a été refusée', failed: 'a échoué' },
};

const TEMPLATES: Record<string, (locale: Locale, p: Params) => Rendered> = {
  'sek.accessed': (locale, params) => {
    const p = need(
      'sek.accessed',
      params,
      'siteNumber',
      'siteName',
      'actor',
      'action',
      'outcome',
      'at',
      'from',
    );
    const at = when(p.at, locale, params['timezone'] ?? 'America/Toronto');
    const action = SEK_ACTIONS[locale][p.action] ?? p.action;
    const outcome = SEK_OUTCOMES[locale][p.outcome] ?? p.outcome;
    if (locale === 'fr') {
      return {
        subject: `[Cloud Connect] Accès à la clé de chiffrement partagée du site ${p.siteNumber}`,
        text: [
          `Bonjour,`,
          ``,
          `La clé de chiffrement partagée (SEK) du site ${p.siteName} (${p.siteNumber}) a été ${action} dans Cloud Connect.`,
          ``,
          `Qui : ${p.actor}`,
          `Quoi : clé ${action} — l'opération ${outcome}`,
          `Quand : ${at}`,
          `D'où : ${p.from}`,
          ``,
          `Si vous ne reconnaissez pas cet accès, remplacez la clé et communiquez avec le soutien.`,
          `Ce message ne contient jamais la clé elle-même.`,
        ].join('\n'),
      };
    }
    return {
      subject: `[Cloud Connect] Shared Encryption Key accessed for site ${p.siteNumber}`,
      text: [
        `Hello,`,
        ``,
        `The Shared Encryption Key (SEK) of site ${p.siteName} (${p.siteNumber}) was ${action} in Cloud Connect.`,
        ``,
        `Who: ${p.actor}`,
        `What: key ${action} — the operation ${outcome}`,
        `When: ${at}`,
        `From: ${p.from}`,
        ``,
        `If you do not recognise this access, replace the key and contact support.`,
        `This message never contains the key itself.`,
      ].join('\n'),
    };
  },
};

export function render(template: string, locale: Locale, params: Params): Rendered {
  const build =
    TEMPLATES[template] ??
    EMR_TEMPLATES[template] ??
    PATIENT_TEMPLATES[template] ??
    REFERRER_TEMPLATES[template] ??
    ACCOUNT_TEMPLATES[template];
  if (!build) throw new UnknownTemplateError(template);
  return build(locale, params);
}
