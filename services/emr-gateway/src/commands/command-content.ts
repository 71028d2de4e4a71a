import { z } from 'zod';

const patient = z.object({
  healthNumber: z.string().trim().min(1).max(40),
  versionCode: z.string().trim().max(4).optional(),
  province: z.string().trim().max(4).optional(),
  birthDate: z.iso.date().optional(),
});

/** What the sealed content of each command kind holds (plaintext exists only in memory). */
export const commandContent = {
  'save-progress-note': z.object({
    patient,
    text: z.string().min(1).max(200000),
    title: z.string().max(200).optional(),
  }),
  'attach-pdf': z.object({
    patient,
    title: z.string().min(1).max(200),
    pdfBase64: z
      .base64()
      .refine((v) => Buffer.from(v, 'base64').subarray(0, 5).toString() === '%PDF-', 'not a PDF'),
  }),
  'mark-arrived': z.object({
    patient,
    /** When the patient checked in at the kiosk; appointments within the setting's hours are marked. */
    checkedInAt: z.iso.datetime({ offset: true }),
  }),
  'upsert-appointment': z.object({
    patient,
    appointmentId: z.string().min(1).optional(),
    providerId: z.string().min(1),
    start: z.iso.datetime({ offset: true }),
    durationMinutes: z.number().int().min(1).max(600),
    reason: z.string().max(500).default('Visit'),
  }),
  'create-tickler': z.object({
    patient,
    message: z.string().min(1).max(5000),
    dueDate: z.iso.date(),
  }),
} as const;

export type CommandKind = keyof typeof commandContent;
export type CommandContent<K extends CommandKind> = z.output<(typeof commandContent)[K]>;
