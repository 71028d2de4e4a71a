import type { EntityManager } from 'typeorm';
import { SiteEntity } from './site.entity';

const UNIQUE_VIOLATION = '23505';

/** The only way to the `sites` table. */
export class SitesRepository {
  async insert(tx: EntityManager, site: Omit<SiteEntity, 'createdAt'>): Promise<'created' | 'exists'> {
    try {
      await tx.insert(SiteEntity, site);
      return 'created';
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) return 'exists';
      throw error;
    }
  }

  findByNumber(tx: EntityManager, siteNumber: string): Promise<SiteEntity | null> {
    return tx.findOneBy(SiteEntity, { siteNumber });
  }
}
