import { need, when, type Locale, type Params, type Rendered } from './template-kit';

/**
 * The EMR gateway's alerts to a site's clinical administrator (services/emr-gateway
 * `clinicalAdminAlert`), in English and French. Params are the gateway's own words and codes
 * (EMR name, reason, command kind and id): never PHI.
 */
function alert(locale: Locale, subject: Record<Locale, string>, lines: Record<Locale, string[]>): Rendered {
  const closing =
    locale === 'fr'
      ? ['', 'Ce message ne contient aucun renseignement sur les patients.']
      : ['', 'This message contains no patient information.'];
  return {
    subject: `[Cloud Connect] ${subject[locale]}`,
    text: [locale === 'fr' ? 'Bonjour,' : 'Hello,', '', ...lines[locale], ...closing].join('\n'),
  };
}

export const EMR_TEMPLATES: Record<string, (locale: Locale, p: Params) => Rendered> = {
  'emr-deauthorized': (locale, params) => {
    const p = need('emr-deauthorized', params, 'siteNumber', 'emr');
    return alert(
      locale,
      {
        en: `${p.emr} no longer accepts Cloud Connect's credentials (site ${p.siteNumber})`,
        fr: `${p.emr} n'accepte plus les identifiants de Cloud Connect (site ${p.siteNumber})`,
      },
      {
        en: [
          `${p.emr} rejected the credentials Cloud Connect uses for site ${p.siteNumber}.`,
          `Forms, notes and attachments for the EMR are held safely and will be delivered once the EMR is reconfigured.`,
          params['action'] ?? 'Reconfigure the EMR in Cloud Connect to resume delivery.',
        ],
        fr: [
          `${p.emr} a refusé les identifiants que Cloud Connect utilise pour le site ${p.siteNumber}.`,
          `Les formulaires, notes et pièces jointes destinés au DME sont conservés et seront livrés dès que le DME sera reconfiguré.`,
          `Reconfigurez le DME dans Cloud Connect (cloud-connect emr reconfigure) pour reprendre la livraison.`,
        ],
      },
    );
  },
  'emr-delivery-failing': (locale, params) => {
    const p = need('emr-delivery-failing', params, 'siteNumber', 'emr', 'reason');
    return alert(
      locale,
      {
        en: `Delivery to ${p.emr} is failing (site ${p.siteNumber})`,
        fr: `La livraison vers ${p.emr} échoue (site ${p.siteNumber})`,
      },
      {
        en: [
          `Cloud Connect cannot deliver to ${p.emr} for site ${p.siteNumber}: ${p.reason}.`,
          `Nothing is lost: deliveries are retried for at least 96 hours. Check that the EMR is running and reachable; you will get a daily reminder until delivery succeeds.`,
        ],
        fr: [
          `Cloud Connect ne peut pas livrer vers ${p.emr} pour le site ${p.siteNumber} : ${p.reason}.`,
          `Rien n'est perdu : les livraisons sont réessayées pendant au moins 96 heures. Vérifiez que le DME fonctionne et est joignable; vous recevrez un rappel quotidien jusqu'à ce que la livraison réussisse.`,
        ],
      },
    );
  },
  'emr-delivery-failing-reminder': (locale, params) => {
    const p = need('emr-delivery-failing-reminder', params, 'siteNumber', 'emr', 'reason');
    const since = params['failingSince']
      ? when(params['failingSince'], locale, params['timezone'] ?? 'America/Toronto')
      : null;
    return alert(
      locale,
      {
        en: `Reminder: delivery to ${p.emr} is still failing (site ${p.siteNumber})`,
        fr: `Rappel : la livraison vers ${p.emr} échoue toujours (site ${p.siteNumber})`,
      },
      {
        en: [
          `Delivery to ${p.emr} for site ${p.siteNumber} is still failing${since ? ` (since ${since})` : ''}: ${p.reason}.`,
          `Deliveries keep being retried; please check the EMR.`,
        ],
        fr: [
          `La livraison vers ${p.emr} pour le site ${p.siteNumber} échoue toujours${since ? ` (depuis le ${since})` : ''} : ${p.reason}.`,
          `Les livraisons continuent d'être réessayées; veuillez vérifier le DME.`,
        ],
      },
    );
  },
  'emr-command-dead-lettered': (locale, params) => {
    const p = need('emr-command-dead-lettered', params, 'siteNumber', 'emr', 'kind', 'commandId', 'reason');
    return alert(
      locale,
      {
        en: `A delivery to ${p.emr} was set aside (site ${p.siteNumber})`,
        fr: `Une livraison vers ${p.emr} a été mise de côté (site ${p.siteNumber})`,
      },
      {
        en: [
          `Cloud Connect stopped retrying a delivery to ${p.emr} for site ${p.siteNumber} (${p.kind}, id ${p.commandId}): ${p.reason}.`,
          `It is kept; once the cause is fixed an operator can replay it (cloud-connect emr replay --site ${p.siteNumber} --command ${p.commandId}).`,
        ],
        fr: [
          `Cloud Connect a cessé de réessayer une livraison vers ${p.emr} pour le site ${p.siteNumber} (${p.kind}, id ${p.commandId}) : ${p.reason}.`,
          `Elle est conservée; une fois la cause corrigée, un opérateur peut la relancer (cloud-connect emr replay --site ${p.siteNumber} --command ${p.commandId}).`,
        ],
      },
    );
  },
  'emr-provider-permission-missing': (locale, params) => {
    const p = need('emr-provider-permission-missing', params, 'siteNumber', 'emr', 'provider', 'permission');
    return alert(
      locale,
      {
        en: `${p.emr}: a provider's schedule cannot be synced (site ${p.siteNumber})`,
        fr: `${p.emr} : l'horaire d'un fournisseur ne peut pas être synchronisé (site ${p.siteNumber})`,
      },
      {
        en: [
          `Cloud Connect's EMR user cannot see the schedule of ${p.provider} in ${p.emr}.`,
          `Grant it the permission "${p.permission}" in the EMR, then sync again.`,
        ],
        fr: [
          `L'utilisateur DME de Cloud Connect ne peut pas voir l'horaire de ${p.provider} dans ${p.emr}.`,
          `Accordez-lui la permission « ${p.permission} » dans le DME, puis relancez la synchronisation.`,
        ],
      },
    );
  },
  'emr-patient-unmatched': (locale, params) => {
    const p = need('emr-patient-unmatched', params, 'siteNumber', 'emr', 'kind', 'commandId', 'reason');
    return alert(
      locale,
      {
        en: `A document waits for you to pick the patient in ${p.emr} (site ${p.siteNumber})`,
        fr: `Un document attend que vous choisissiez le patient dans ${p.emr} (site ${p.siteNumber})`,
      },
      {
        en: [
          `Cloud Connect did not write a delivery to ${p.emr} for site ${p.siteNumber} (${p.kind}, id ${p.commandId}): ${p.reason}.`,
          `Nothing was written to any chart. Pick the patient's chart to release it (cloud-connect emr release --site ${p.siteNumber} --command ${p.commandId} --patient <EMR patient id>).`,
        ],
        fr: [
          `Cloud Connect n'a pas écrit une livraison vers ${p.emr} pour le site ${p.siteNumber} (${p.kind}, id ${p.commandId}) : ${p.reason}.`,
          `Rien n'a été écrit dans aucun dossier. Choisissez le dossier du patient pour la libérer (cloud-connect emr release --site ${p.siteNumber} --command ${p.commandId} --patient <id du patient dans le DME>).`,
        ],
      },
    );
  },
};
