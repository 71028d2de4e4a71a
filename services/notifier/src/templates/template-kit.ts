/** What every template is made of: locales, params, the rendered message, and their checks. */
import { MissingParamError } from '../common/notification-error';

export type Locale = 'en' | 'fr';

export interface Rendered {
  subject: string;
  text: string;
}

export type Params = Record<string, string>;

export function need<K extends string>(template: string, params: Params, ...names: K[]): Record<K, string> {
  const out = {} as Record<K, string>;
  for (const name of names) {
    const value = params[name];
    if (!value) throw new MissingParamError(template, name);
    out[name] = value;
  }
  return out;
}

export function when(iso: string, locale: Locale, timeZone: string): string {
  const date = new Date(iso);
  const local = new Intl.DateTimeFormat(locale === 'fr' ? 'fr-CA' : 'en-CA', {
    dateStyle: 'long',
    timeStyle: 'long',
    timeZone,
  }).format(date);
  return `${local} (${date.toISOString()})`;
}
