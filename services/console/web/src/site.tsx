import { createContext, useContext } from 'react';
import { useIntl } from 'react-intl';
import type { SiteRecord } from './api';

export interface SiteContextValue {
  site: string;
  record: SiteRecord | null;
}

export const SiteContext = createContext<SiteContextValue>({ site: '', record: null });

export function useSite(): SiteContextValue {
  return useContext(SiteContext);
}

/** Dates and times in the site's time zone (the clinic's, not the browser's). */
export function useFormatTime(): (iso: string | null | undefined) => string | null {
  const intl = useIntl();
  const { record } = useSite();
  const timeZone = record?.timezone ?? 'America/Toronto';
  return (iso) =>
    iso
      ? intl.formatDate(new Date(iso), {
          year: 'numeric',
          month: 'short',
          day: 'numeric',
          hour: 'numeric',
          minute: '2-digit',
          timeZone,
          timeZoneName: 'short',
        })
      : null;
}
