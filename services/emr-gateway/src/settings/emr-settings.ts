import { z } from 'zod';

/** A site's EMR settings with the product's defaults (seed 000, "Customize your Cloud Connect Configuration"). */
export const emrSettingsSchema = z
  .object({
    /** Schedule days to sync: 1 is enough for most clinics. */
    scheduleDaysToSync: z
      .number()
      .int('scheduleDaysToSync is a whole number of days')
      .min(1)
      .max(30)
      .default(1),
    /** Providers whose appointments sync; ids from the EMR's provider list. */
    syncProviderIds: z.array(z.string().min(1)).max(1000).default([]),
    /** Mark appointments arrived within this many hours after a kiosk check-in. */
    markArrivedWithinHours: z.number().min(0).max(24).default(2),
    /** Several forms completed in one sitting become one progress note. */
    combineProgressNotes: z.boolean().default(false),
    /** Import referrals, consults and web form submissions into the chart as PDF (early access). */
    importAttachmentsAsPdf: z.boolean().default(false),
    walkIn: z
      .object({
        enabled: z.boolean().default(false),
        /** Provider whose schedule receives walk-in appointments. */
        providerId: z.string().min(1).nullable().default(null),
        reason: z.string().trim().min(1).max(100).default('Walk-in'),
        durationMinutes: z.number().int().min(5).max(120).default(10),
      })
      .strict()
      .default({ enabled: false, providerId: null, reason: 'Walk-in', durationMinutes: 10 })
      .refine((w) => !w.enabled || w.providerId !== null, {
        message: 'walk-ins need a provider',
        path: ['providerId'],
      }),
  })
  .strict();

export type EmrSettings = z.output<typeof emrSettingsSchema>;

export const DEFAULT_SETTINGS: EmrSettings = emrSettingsSchema.parse({});

/** Provider ids the settings name that the EMR's provider list does not have. */
export function unknownProviders(settings: EmrSettings, known: ReadonlySet<string>): string[] {
  const named = [
    ...settings.syncProviderIds,
    ...(settings.walkIn.providerId ? [settings.walkIn.providerId] : []),
  ];
  return [...new Set(named.filter((id) => !known.has(id)))];
}
