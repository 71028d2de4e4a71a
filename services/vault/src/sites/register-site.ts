import { domainErrorClass } from '@cloud-connect/errors';
import { Events } from '@cloud-connect/contracts';
import type { OutboxWriter } from '@cloud-connect/db';
import type { EventRegistry } from '@cloud-connect/kafka';
import { auditEvent } from '@cloud-connect/service-kit';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { siteRecord, type SiteEntity } from './site.entity';
import { SitesRepository } from './sites.repository';

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

export const registerSiteInput = z.object({
  siteNumber: z.string().regex(/^[1-9][0-9]{0,9}$/, 'a site number is 1 to 10 digits, not starting with 0'),
  name: z.string().trim().min(1, 'a site needs a name').max(200, 'a site name is at most 200 characters'),
  adminEmail: z.email('admin e-mail is not a valid e-mail address'),
  clinicalAdminEmail: z
    .email('clinical administrator e-mail is not a valid e-mail address')
    .nullable()
    .default(null),
  locale: z.enum(['en', 'fr'], 'locale is en or fr').default('en'),
  timezone: z
    .string()
    .refine(isTimeZone, 'timezone is not an IANA time zone (e.g. America/Toronto)')
    .default('America/Toronto'),
});

export type RegisterSiteInput = z.input<typeof registerSiteInput>;

export type SiteErrorCode = 'invalid-site' | 'site-exists';

export class SiteError extends domainErrorClass<SiteErrorCode>('sites', {
  'invalid-site': 'invalid',
  'site-exists': 'conflict',
}) {}

/**
 * Registers a site: the row and its `site.registered` event (plus an `audit.recorded` entry for
 * the admin action) commit together; the relay publishes them.
 */
export class RegisterSite {
  private readonly sites = new SitesRepository();

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly registry: EventRegistry,
  ) {}

  async execute(input: RegisterSiteInput, actor: string): Promise<SiteEntity> {
    const parsed = registerSiteInput.safeParse(input);
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
      throw new SiteError('invalid-site', `invalid site: ${details.join('; ')}`, details);
    }
    const site = { ...parsed.data, createdBy: actor };
    return this.dataSource.transaction(async (tx) => {
      if ((await this.sites.insert(tx, site)) === 'exists') {
        throw new SiteError('site-exists', `site ${site.siteNumber} already exists`);
      }
      await this.outbox.enqueue(
        tx,
        this.registry.create(Events.siteRegistered, site.siteNumber, siteRecord(site)),
      );
      await this.outbox.enqueue(
        tx,
        auditEvent(this.registry, site.siteNumber, {
          actor,
          action: 'site.create',
          target: `site/${site.siteNumber}`,
        }),
      );
      const saved = await this.sites.findByNumber(tx, site.siteNumber);
      if (!saved) throw new Error('site vanished inside its own transaction');
      return saved;
    });
  }
}
