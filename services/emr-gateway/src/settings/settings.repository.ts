import type { EntityManager } from 'typeorm';
import type { EmrSettings } from './emr-settings';

type Db = Pick<EntityManager, 'query'>;

export interface SettingsVersion {
  version: number;
  settings: EmrSettings;
  changedBy: string;
  changedAt: Date;
}

/** The only way to `emr_settings`: every version is kept (versioned settings). */
export class SettingsRepository {
  constructor(private readonly schema: string) {}

  async current(db: Db, siteNumber: string): Promise<SettingsVersion | null> {
    const rows: Record<string, unknown>[] = await db.query(
      `SELECT version, settings, changed_by, changed_at FROM "${this.schema}".emr_settings
       WHERE site_number = $1 ORDER BY version DESC LIMIT 1`,
      [siteNumber],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      version: Number(row['version']),
      settings: row['settings'] as EmrSettings,
      changedBy: String(row['changed_by']),
      changedAt: row['changed_at'] as Date,
    };
  }

  /** Inserts the next version; 'conflict' if another writer took that version number first. */
  async insert(
    db: Db,
    siteNumber: string,
    version: number,
    settings: EmrSettings,
    changedBy: string,
  ): Promise<'saved' | 'conflict'> {
    try {
      await db.query(
        `INSERT INTO "${this.schema}".emr_settings (site_number, version, settings, changed_by) VALUES ($1, $2, $3, $4)`,
        [siteNumber, version, JSON.stringify(settings), changedBy],
      );
      return 'saved';
    } catch (error) {
      if ((error as { code?: string }).code === '23505') return 'conflict';
      throw error;
    }
  }
}
