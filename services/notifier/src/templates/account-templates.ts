import { need, when, type Locale, type Params, type Rendered } from './template-kit';

/**
 * The site account's e-mails (vault service, services/vault/src/account): invitations and
 * password links (the link arrives sealed and is opened at send time), a role granted, and a
 * changed clinical administrator address (sent to the old and the new one).
 */
function mail(locale: Locale, subject: Record<Locale, string>, lines: Record<Locale, string[]>): Rendered {
  return {
    subject: `[Cloud Connect] ${subject[locale]}`,
    text: [locale === 'fr' ? 'Bonjour,' : 'Hello,', '', ...lines[locale]].join('\n'),
  };
}

export const ACCOUNT_TEMPLATES: Record<string, (locale: Locale, p: Params) => Rendered> = {
  'account.invite': (locale, params) => {
    const p = need('account.invite', params, 'siteNumber', 'siteName', 'actor', 'link');
    return mail(
      locale,
      {
        en: `You are invited to administer site ${p.siteNumber}`,
        fr: `Vous êtes invité(e) à administrer le site ${p.siteNumber}`,
      },
      {
        en: [
          `${p.actor} invited you to administer ${p.siteName} (site ${p.siteNumber}) in Cloud Connect.`,
          ``,
          `Choose your password with this link (it works once, for 72 hours):`,
          p.link,
          ``,
          `If you did not expect this invitation, ignore this e-mail.`,
        ],
        fr: [
          `${p.actor} vous a invité(e) à administrer ${p.siteName} (site ${p.siteNumber}) dans Cloud Connect.`,
          ``,
          `Choisissez votre mot de passe avec ce lien (valable une fois, pendant 72 heures) :`,
          p.link,
          ``,
          `Si vous n'attendiez pas cette invitation, ignorez ce courriel.`,
        ],
      },
    );
  },
  'account.password-reset': (locale, params) => {
    const p = need('account.password-reset', params, 'siteNumber', 'link');
    return mail(
      locale,
      { en: 'Choose a new Cloud Connect password', fr: 'Choisissez un nouveau mot de passe Cloud Connect' },
      {
        en: [
          `Someone asked to reset the password of your Cloud Connect account (site ${p.siteNumber}).`,
          ``,
          `Choose a new password with this link (it works once, for 30 minutes):`,
          p.link,
          ``,
          `If you did not ask for this, ignore this e-mail: your password does not change.`,
        ],
        fr: [
          `Quelqu'un a demandé de réinitialiser le mot de passe de votre compte Cloud Connect (site ${p.siteNumber}).`,
          ``,
          `Choisissez un nouveau mot de passe avec ce lien (valable une fois, pendant 30 minutes) :`,
          p.link,
          ``,
          `Si vous n'avez rien demandé, ignorez ce courriel : votre mot de passe ne change pas.`,
        ],
      },
    );
  },
  'account.granted': (locale, params) => {
    const p = need('account.granted', params, 'siteNumber', 'siteName', 'actor', 'consoleUrl');
    return mail(
      locale,
      {
        en: `You now administer site ${p.siteNumber}`,
        fr: `Vous administrez maintenant le site ${p.siteNumber}`,
      },
      {
        en: [
          `${p.actor} made you an administrator of ${p.siteName} (site ${p.siteNumber}) in Cloud Connect.`,
          `Sign in with your usual password: ${p.consoleUrl}`,
        ],
        fr: [
          `${p.actor} vous a nommé(e) administrateur(-trice) de ${p.siteName} (site ${p.siteNumber}) dans Cloud Connect.`,
          `Connectez-vous avec votre mot de passe habituel : ${p.consoleUrl}`,
        ],
      },
    );
  },
  'site.clinical-admin-changed': (locale, params) => {
    const p = need('site.clinical-admin-changed', params, 'siteNumber', 'siteName', 'actor', 'at');
    const none =
      locale === 'fr'
        ? "(aucune : l'adresse de l'administrateur du site)"
        : "(none: the site admin's address)";
    const oldEmail = params['oldEmail'] || none;
    const newEmail = params['newEmail'] || none;
    const at = when(p.at, locale, params['timezone'] ?? 'America/Toronto');
    return mail(
      locale,
      {
        en: `Clinical administrator e-mail changed for site ${p.siteNumber}`,
        fr: `Courriel de l'administrateur clinique modifié pour le site ${p.siteNumber}`,
      },
      {
        en: [
          `The clinical administrator e-mail of ${p.siteName} (site ${p.siteNumber}) was changed.`,
          ``,
          `Before: ${oldEmail}`,
          `Now: ${newEmail}`,
          `By: ${p.actor}`,
          `When: ${at}`,
          ``,
          `Alerts (Shared Encryption Key access, EMR problems) now go to the new address.`,
          `If you did not expect this change, contact another administrator of the site or support.`,
        ],
        fr: [
          `Le courriel de l'administrateur clinique de ${p.siteName} (site ${p.siteNumber}) a été modifié.`,
          ``,
          `Avant : ${oldEmail}`,
          `Maintenant : ${newEmail}`,
          `Par : ${p.actor}`,
          `Quand : ${at}`,
          ``,
          `Les alertes (accès à la clé de chiffrement partagée, problèmes de DMÉ) vont maintenant à la nouvelle adresse.`,
          `Si vous n'attendiez pas ce changement, communiquez avec un autre administrateur du site ou avec le soutien.`,
        ],
      },
    );
  },
};
