import { useCallback } from 'react';
import { useIntl } from 'react-intl';
import { en, type MessageId } from './en';
import { fr } from './fr';

export type Locale = 'en' | 'fr';
export const MESSAGES: Record<Locale, Record<MessageId, string>> = { en, fr };

/** The browser's language if it is French or English, else the site's, else English. */
export function initialLocale(siteLocale?: string): Locale {
  const saved = typeof localStorage !== 'undefined' ? localStorage.getItem('cc-console-locale') : null;
  if (saved === 'en' || saved === 'fr') return saved;
  for (const tag of navigator.languages) {
    if (tag.toLowerCase().startsWith('fr')) return 'fr';
    if (tag.toLowerCase().startsWith('en')) return 'en';
  }
  return siteLocale?.startsWith('fr') ? 'fr' : 'en';
}

export function rememberLocale(locale: Locale): void {
  localStorage.setItem('cc-console-locale', locale);
}

type Values = Record<string, string | number>;

/** A message in the chosen language. */
export type Translate = (id: MessageId, values?: Values) => string;

/**
 * `t('sync.title')`: a typed message id, so every string exists in both languages. The same
 * function for as long as the language stays the same: screens list `t` among the dependencies of
 * their loading effects, and a new function on every render would reload their lists after every
 * render, without end.
 */
export function useT(): Translate {
  const intl = useIntl();
  return useCallback<Translate>((id, values) => intl.formatMessage({ id }, values), [intl]);
}

export type { MessageId };
