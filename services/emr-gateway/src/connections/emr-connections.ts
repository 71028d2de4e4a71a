import { domainErrorClass } from '@cloud-connect/errors';
import type { MessagingService, SiteReplica } from '@cloud-connect/service-kit';
import type { DataSource, EntityManager } from 'typeorm';
import {
  EMR_TYPE_NAMES,
  EmrError,
  emrCredentials,
  type EmrCredentials,
  type EmrType,
} from '../adapters/emr-adapter';
import type { EmrProvider } from '../adapters/emr-records';
import { auditEntry, clinicalAdminAlert } from '../common/site-events';
import { SettingsRepository } from '../settings/settings.repository';
import { DEFAULT_SETTINGS } from '../settings/emr-settings';
import { ConnectionsRepository } from './connections.repository';
import type { EmrCredentialStore } from './credential-store';
import type { EmrAdapters } from './emr-adapters';

export type ConnectionErrorCode =
  | 'invalid-credentials-input'
  | 'auth-rejected'
  | 'unreachable'
  | 'permission'
  | 'emr-error'
  | 'not-connected';

export class ConnectionError extends domainErrorClass<ConnectionErrorCode>('emr-connections', {
  'invalid-credentials-input': 'invalid',
  'not-connected': 'not-found',
  'auth-rejected': 'unprocessable',
  unreachable: 'unprocessable',
  permission: 'unprocessable',
  'emr-error': 'unprocessable',
}) {}

/** The plain-language reason a connection attempt failed, per EMR type (what the admin should check). */
export function explainFailure(type: EmrType, error: EmrError): ConnectionError {
  const name = EMR_TYPE_NAMES[type];
  const what: Record<EmrType, string> = {
    'ps-suite': 'the EMR Instance ID and EMR Secret from the Ocean integration module',
    'med-access': 'the EMR Instance ID and EMR Secret from the Ocean integration module',
    accuro: "the tenant ID and the API client of the 'OceanAPI[tenant]' user",
    'oscar-pro': "the 'OceanConnect' user's username, password and PIN (no PIN if the EMR uses Pro Auth)",
    chr: 'the base URL and the API key or client credentials',
    'fhir-r4': 'the base URL and the API key or client credentials',
  };
  switch (error.code) {
    case 'auth-rejected':
      return new ConnectionError('auth-rejected', `${name} rejected the credentials: check ${what[type]}.`);
    case 'unreachable':
    case 'transient':
      return new ConnectionError(
        'unreachable',
        `Could not reach ${name}: ${error.message}. Check the address and that the EMR is online, then try again.`,
      );
    case 'permission':
      return new ConnectionError(
        'permission',
        `${name} accepted the credentials but the EMR user lacks permission to read providers; grant it in the EMR's user security settings.`,
      );
    case 'not-found':
    case 'invalid':
    case 'unsupported':
      return new ConnectionError('emr-error', `${name} refused the connection: ${error.message}.`);
  }
}

export interface ConnectionView {
  siteNumber: string;
  emrType: EmrType | null;
  emrName: string | null;
  status: 'connected' | 'deauthorized' | 'disconnected' | 'not-configured';
  connectedAt: string | null;
  lastError: string | null;
  providers: EmrProvider[];
}

/**
 * Called in the transaction that reconnects a deauthorized site (the command queue wakes the
 * commands it held). Layers above the connections register it; this layer knows none of them.
 */
export type ReauthorizedHook = (tx: EntityManager, siteNumber: string) => Promise<void>;

/**
 * Use cases of a site's EMR connection: connect / reconfigure (authenticate first, then keep the
 * credentials in Vault), status, disconnect, and the deauthorization that holds the queue.
 */
export class EmrConnections {
  private readonly connections: ConnectionsRepository;
  private readonly settings: SettingsRepository;

  constructor(
    private readonly dataSource: DataSource,
    schema: string,
    private readonly messaging: MessagingService,
    private readonly store: EmrCredentialStore,
    private readonly adapters: EmrAdapters,
    private readonly sites: SiteReplica,
    private readonly onReauthorized: ReauthorizedHook = () => Promise.resolve(),
  ) {
    this.connections = new ConnectionsRepository(schema);
    this.settings = new SettingsRepository(schema);
  }

  /** Connects (or reconfigures): authenticates and reads providers at once; nothing is saved on failure. */
  async connect(siteNumber: string, input: unknown, actor: string): Promise<ConnectionView> {
    const parsed = emrCredentials.safeParse(input);
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => `${i.path.join('.') || 'credentials'}: ${i.message}`);
      throw new ConnectionError(
        'invalid-credentials-input',
        `invalid EMR credentials: ${details.join('; ')}`,
        details,
      );
    }
    const credentials: EmrCredentials = parsed.data;
    const refused = await this.adapters.refusedUrl(credentials);
    if (refused) {
      await this.audit(siteNumber, actor, 'emr.connect', 'failed');
      throw new ConnectionError('invalid-credentials-input', `invalid EMR credentials: ${refused}`, [
        refused,
      ]);
    }
    const adapter = this.adapters.build(credentials);
    let providers: EmrProvider[];
    try {
      await adapter.authenticate();
      providers = await adapter.providers();
    } catch (error) {
      await this.audit(siteNumber, actor, 'emr.connect', 'failed');
      if (error instanceof EmrError) throw explainFailure(credentials.type, error);
      throw error;
    }
    const version = await this.store.save(siteNumber, credentials);
    const previous = await this.connections.find(this.dataSource.manager, siteNumber);
    await this.transaction(async (tx) => {
      await this.connections.saveConnected(tx, siteNumber, credentials.type, version, providers);
      if (!(await this.settings.current(tx, siteNumber))) {
        // First connection: the product's defaults, with every provider selected.
        await this.settings.insert(
          tx,
          siteNumber,
          1,
          { ...DEFAULT_SETTINGS, syncProviderIds: providers.map((p) => p.id) },
          actor,
        );
      }
      if (previous?.status === 'deauthorized') await this.onReauthorized(tx, siteNumber);
      await this.messaging.outbox.enqueue(
        tx,
        auditEntry(
          this.messaging.registry,
          siteNumber,
          actor,
          previous ? 'emr.reconfigure' : 'emr.connect',
          'allowed',
        ),
      );
    });
    this.adapters.use(siteNumber, adapter);
    return this.view(siteNumber);
  }

  async disconnect(siteNumber: string, actor: string): Promise<void> {
    const existing = await this.connections.find(this.dataSource.manager, siteNumber);
    if (!existing || existing.status === 'disconnected') {
      throw new ConnectionError('not-connected', `site ${siteNumber} has no EMR connection`);
    }
    await this.store.remove(siteNumber);
    this.adapters.forget(siteNumber);
    await this.transaction(async (tx) => {
      await this.connections.markDisconnected(tx, siteNumber);
      await this.messaging.outbox.enqueue(
        tx,
        auditEntry(this.messaging.registry, siteNumber, actor, 'emr.disconnect', 'allowed'),
      );
    });
  }

  /**
   * The EMR rejected stored credentials: mark deauthorized (commands hold) and alert the clinical
   * administrator once. Called by the command dispatcher and by sync.
   */
  async deauthorize(siteNumber: string, reason: string): Promise<void> {
    this.adapters.forget(siteNumber);
    const site = await this.sites.find(siteNumber);
    await this.transaction(async (tx) => {
      if (!(await this.connections.markDeauthorized(tx, siteNumber, reason))) return;
      const connection = await this.connections.find(tx, siteNumber);
      await this.messaging.outbox.enqueue(
        tx,
        clinicalAdminAlert(this.messaging.registry, siteNumber, site?.locale ?? 'en', 'emr-deauthorized', {
          emr: connection ? EMR_TYPE_NAMES[connection.emrType] : 'EMR',
          action: 'Reconfigure the EMR in Cloud Connect (cloud-connect emr reconfigure) to resume delivery.',
        }),
      );
    });
  }

  async view(siteNumber: string): Promise<ConnectionView> {
    const row = await this.connections.find(this.dataSource.manager, siteNumber);
    return {
      siteNumber,
      emrType: row?.emrType ?? null,
      emrName: row ? EMR_TYPE_NAMES[row.emrType] : null,
      status: row?.status ?? 'not-configured',
      connectedAt: row?.connectedAt?.toISOString() ?? null,
      lastError: row?.lastError ?? null,
      providers: row?.providers ?? [],
    };
  }

  private async audit(
    siteNumber: string,
    actor: string,
    action: string,
    outcome: 'allowed' | 'failed',
  ): Promise<void> {
    await this.transaction((tx) =>
      this.messaging.outbox.enqueue(
        tx,
        auditEntry(this.messaging.registry, siteNumber, actor, action, outcome),
      ),
    );
  }

  private transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.messaging.transaction(work);
  }
}
