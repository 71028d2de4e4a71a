import { domainErrorClass } from '@cloud-connect/errors';
import type { MessagingService } from '@cloud-connect/service-kit';
import type { DataSource, EntityManager } from 'typeorm';
import { auditEntry } from '../common/site-events';
import { DEFAULT_SETTINGS, emrSettingsSchema, unknownProviders, type EmrSettings } from './emr-settings';
import { SettingsRepository } from './settings.repository';

export type SettingsErrorCode = 'invalid-settings' | 'version-conflict' | 'not-connected';

export class SettingsError extends domainErrorClass<SettingsErrorCode>('emr-settings', {
  'invalid-settings': 'invalid',
  'version-conflict': 'conflict',
  'not-connected': 'conflict',
}) {}

/**
 * What the settings need of the site's EMR connection: its status and provider ids, read (and
 * locked with `forUpdate`) in the settings' transaction. The connections layer provides it.
 */
export interface ConnectionLookup {
  find(
    db: EntityManager,
    siteNumber: string,
    forUpdate?: boolean,
  ): Promise<{ status: string; providers: { id: string }[] } | null>;
}

export interface SettingsView {
  version: number;
  settings: EmrSettings;
  changedBy: string | null;
  changedAt: string | null;
}

/** Read and change a site's EMR settings: validated against the EMR's providers, versioned, audited. */
export class EmrSettingsService {
  private readonly repository: SettingsRepository;

  constructor(
    private readonly dataSource: DataSource,
    schema: string,
    private readonly messaging: MessagingService,
    private readonly connections: ConnectionLookup,
  ) {
    this.repository = new SettingsRepository(schema);
  }

  async get(siteNumber: string): Promise<SettingsView> {
    const current = await this.repository.current(this.dataSource.manager, siteNumber);
    if (!current) return { version: 0, settings: DEFAULT_SETTINGS, changedBy: null, changedAt: null };
    return {
      version: current.version,
      settings: emrSettingsSchema.parse(current.settings),
      changedBy: current.changedBy,
      changedAt: current.changedAt.toISOString(),
    };
  }

  /** Replaces the settings (absent fields take the defaults); `expectedVersion` guards concurrent edits. */
  async update(
    siteNumber: string,
    input: unknown,
    actor: string,
    expectedVersion?: number,
  ): Promise<SettingsView> {
    const parsed = emrSettingsSchema.safeParse(input);
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`);
      throw new SettingsError('invalid-settings', `invalid settings: ${details.join('; ')}`, details);
    }
    const settings = parsed.data;
    return this.messaging.transaction(async (tx) => {
      const connection = await this.connections.find(tx, siteNumber, true);
      if (!connection || connection.status === 'disconnected') {
        throw new SettingsError(
          'not-connected',
          `site ${siteNumber} has no EMR connection; connect the EMR first`,
        );
      }
      const unknown = unknownProviders(settings, new Set(connection.providers.map((p) => p.id)));
      if (unknown.length > 0) {
        const details = unknown.map(
          (id) => `syncProviderIds: provider ${id} is not in the EMR's provider list`,
        );
        throw new SettingsError('invalid-settings', `invalid settings: ${details.join('; ')}`, details);
      }
      const current = await this.repository.current(tx, siteNumber);
      const currentVersion = current?.version ?? 0;
      if (expectedVersion !== undefined && expectedVersion !== currentVersion) {
        throw new SettingsError(
          'version-conflict',
          `settings changed since version ${expectedVersion} (now ${currentVersion}); reload and retry`,
        );
      }
      if (
        (await this.repository.insert(tx, siteNumber, currentVersion + 1, settings, actor)) === 'conflict'
      ) {
        throw new SettingsError(
          'version-conflict',
          'settings were changed at the same time; reload and retry',
        );
      }
      await this.messaging.outbox.enqueue(
        tx,
        auditEntry(this.messaging.registry, siteNumber, actor, 'emr.settings.update', 'allowed'),
      );
      return { version: currentVersion + 1, settings, changedBy: actor, changedAt: new Date().toISOString() };
    });
  }
}
