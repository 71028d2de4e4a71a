import type { DataSource } from 'typeorm';
import { CommandsRepository } from '../commands/commands.repository';
import type { EmrConnections } from '../connections/emr-connections';
import { SettingsRepository } from '../settings/settings.repository';
import { SyncStatusRepository } from '../sync/sync-status.repository';

/** The status panel of a site's EMR: connection, sync status, the command queue, settings version. */
export class EmrStatus {
  private readonly settings: SettingsRepository;
  private readonly commands: CommandsRepository;
  private readonly sync: SyncStatusRepository;

  constructor(
    private readonly dataSource: DataSource,
    schema: string,
    private readonly connections: EmrConnections,
  ) {
    this.settings = new SettingsRepository(schema);
    this.commands = new CommandsRepository(schema);
    this.sync = new SyncStatusRepository(schema);
  }

  async status(siteNumber: string): Promise<Record<string, unknown>> {
    const db = this.dataSource.manager;
    const [connection, sync, queue, settings] = await Promise.all([
      this.connections.view(siteNumber),
      this.sync.get(db, siteNumber),
      this.commands.stats(db, siteNumber),
      this.settings.current(db, siteNumber),
    ]);
    return {
      connection,
      sync: sync ?? {
        state: 'idle',
        lastSuccessAt: null,
        lastError: null,
        nextDueAt: null,
        nextFullAt: null,
        providerProblems: [],
      },
      queue: {
        pending: queue.pending,
        oldestPendingAgeSeconds: queue.oldestPendingSeconds,
        deadLettered: queue.dead,
        held: connection.status === 'deauthorized' && queue.pending > 0,
        waitingForPatient: queue.held,
      },
      settingsVersion: settings?.version ?? 0,
    };
  }
}
