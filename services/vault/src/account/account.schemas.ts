import { z } from 'zod';

/** The DTOs of the site-account and password endpoints: validated here, described by the OpenAPI document. */

export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const email = (what: string) =>
  z
    .email(`${what} is not a valid e-mail address`)
    .max(320, `${what} is at most 320 characters`)
    .transform((v) => v.trim());

export const password = z
  .string()
  .min(12, 'a password has at least 12 characters')
  .max(256, 'a password has at most 256 characters');

/** PATCH /admin/sites/:site — only the fields given change. */
export const updateSiteAccountBody = z
  .object({
    name: z
      .string()
      .trim()
      .min(1, 'a site needs a name')
      .max(200, 'a site name is at most 200 characters')
      .optional(),
    clinicalAdminEmail: email('clinical administrator e-mail').nullable().optional(),
    locale: z.enum(['en', 'fr'], 'locale is en or fr').optional(),
    timezone: z
      .string()
      .refine(isTimeZone, 'timezone is not an IANA time zone (e.g. America/Toronto)')
      .optional(),
  })
  .strict()
  .refine(
    (b) => Object.keys(b).length > 0,
    'give at least one of name, clinicalAdminEmail, locale, timezone',
  );
export type UpdateSiteAccount = z.output<typeof updateSiteAccountBody>;

/** POST /admin/sites/:site/admins */
export const inviteAdminBody = z.object({ email: email('e-mail') }).strict();

export const siteAdmin = z.object({
  userId: z.uuid(),
  email: z.string(),
  role: z.enum(['admin', 'member']),
  status: z.enum(['active', 'invited']),
  grantedAt: z.string(),
});
export type SiteAdmin = z.output<typeof siteAdmin>;

export const siteAccount = z.object({
  siteNumber: z.string(),
  name: z.string(),
  locale: z.enum(['en', 'fr']),
  timezone: z.string(),
  adminEmail: z.string(),
  clinicalAdminEmail: z.string().nullable(),
  createdAt: z.string(),
});

export const siteAdminList = z.object({ admins: z.array(siteAdmin) });

export const inviteAnswer = z.object({
  userId: z.uuid(),
  email: z.string(),
  outcome: z.enum(['invited', 'granted']),
});

/** POST /auth/password/forgot */
export const forgotPasswordBody = z.object({ email: z.string().trim().min(1).max(320) }).strict();

/** POST /auth/password/reset */
export const resetPasswordBody = z
  .object({
    token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'the link is not a Cloud Connect password link'),
    password,
  })
  .strict();

export const acceptedAnswer = z.object({ message: z.string() });
export const resetAnswer = z.object({ email: z.string() });
