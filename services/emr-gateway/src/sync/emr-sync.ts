import { Events } from '@cloud-connect/contracts';
import type { Envelope } from '@cloud-connect/kafka';
import type { Logger } from '@cloud-connect/observability';
import type { MessagingService } from '@cloud-connect/service-kit';
import { Counter, type Registry } from 'prom-client';
import type { DataSource, EntityManager } from 'typeorm';
import { isSekMissing, type PhiCipher as EnvelopeCipher } from '@cloud-connect/phi-client';
import { ACCURO_PERMISSION_HINT, EmrError } from '../adapters/emr-adapter';
import type { EmrAppointment } from '../adapters/emr-records';
import { ConnectionsRepository } from '../connections/connections.repository';
import type { EmrAdapters } from '../connections/emr-adapters';
import type { EmrConnections } from '../connections/emr-connections';
import type { EmrSettingsService } from '../settings/emr-settings.service';
import { SyncStatusRepository, type ProviderProblem } from './sync-status.repository';

export interface SyncOutcome {
  ok: boolean;
  appointments: number;
  providers: number;
  problems: ProviderProblem[];
  error: string | null;
  /** What the sync read, for the platform (published sealed as `appointments.synced`). */
  synced?: { from: string; to: string; appointments: SyncedAppointment[] };
}

/** One synced appointment as it is sealed for the platform's pull API. */
export interface SyncedAppointment extends EmrAppointment {
  providerName: string | null;
}

/** Appointments per `appointments.synced` event (the contract's maximum). */
const SYNCED_BATCH = 100;

/** The record id a synced appointment's sealed content is bound to (with the site). */
export function syncedAppointmentRecordId(appointmentId: string): string {
  return `emr-appointment/${appointmentId}`;
}

/** Today's date in the site's time zone (YYYY-MM-DD). */
export function localDate(timeZone: string, at = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86400000).toISOString().slice(0, 10);
}

/**
 * Sync execution (flow 4): providers first, then the selected providers' appointments for the
 * configured days; status recorded, `sync.completed` published. A provider whose schedule the EMR
 * user may not read is reported by name with the permissions to grant, not skipped silently.
 */
export class EmrSync {
  private readonly status: SyncStatusRepository;
  private readonly connections: ConnectionsRepository;
  private readonly runs: Counter<'site' | 'outcome'> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    schema: string,
    private readonly messaging: MessagingService,
    private readonly adapters: EmrAdapters,
    private readonly connectionUseCases: EmrConnections,
    private readonly settings: EmrSettingsService,
    private readonly timeZoneOf: (siteNumber: string) => Promise<string>,
    /** Days from today the full schedule window covers (recent covers the site's days to sync). */
    private readonly fullSyncDays: number,
    private readonly logger: Logger,
    metrics?: Registry,
    /** Seals synced appointments for the platform (the vault service's envelope encryption). */
    private readonly envelopes?: EnvelopeCipher,
  ) {
    this.status = new SyncStatusRepository(schema);
    this.connections = new ConnectionsRepository(schema);
    // Alerting (the chart's CloudConnectSyncFailing) counts failed runs per site.
    this.runs = metrics
      ? new Counter({
          name: 'emr_sync_runs_total',
          help: 'EMR sync runs, per site and outcome (succeeded, failed)',
          labelNames: ['site', 'outcome'],
          registers: [metrics],
        })
      : undefined;
  }

  /** A `sync.requested`, in the consumer's transaction: runs the sync and publishes its outcome. */
  async onRequested(envelope: Envelope, tx: EntityManager): Promise<void> {
    if (envelope.type !== Events.syncRequested.type) return;
    const request = Events.syncRequested.schema.parse(envelope.payload);
    const site = envelope.siteId;
    const next = {
      recent: request.nextRecentAt ? new Date(request.nextRecentAt) : null,
      full: request.nextFullAt ? new Date(request.nextFullAt) : null,
    };
    const skip = await this.skipReason(site, request, new Date(envelope.occurredAt));
    if (skip) {
      // Still show the schedules' next slots.
      await this.status.setNext(this.dataSource.manager, site, next);
      this.logger.info({ siteNumber: site, scope: request.scope, reason: skip }, 'sync request skipped');
      return;
    }
    const outcome = await this.run(site, request.scope, request.requestId, next);
    if (outcome.ok && outcome.synced) {
      await this.publishSynced(tx, site, request, outcome.synced).catch((error: unknown) => {
        // Nothing can be sealed for a site without an SEK: the sync itself stands.
        if (!isSekMissing(error)) throw error;
        this.logger.warn({ siteNumber: site }, 'synced appointments not published: the site has no SEK');
      });
    }
    await this.messaging.outbox.enqueue(
      tx,
      this.messaging.registry.create(Events.syncCompleted, site, {
        requestId: request.requestId,
        scope: request.scope,
        outcome: outcome.ok ? 'succeeded' : 'failed',
        appointments: outcome.appointments,
        ...(outcome.error ? { error: outcome.error } : {}),
        providerProblems: outcome.problems,
      }),
    );
  }

  /**
   * Publishes what a sync read, each appointment sealed for the site (PHI never in clear on
   * Kafka), in the transaction of its `sync.completed`. Nothing is published without a sealer.
   */
  private async publishSynced(
    tx: EntityManager,
    site: string,
    request: { requestId: string; scope: 'recent' | 'full' },
    synced: NonNullable<SyncOutcome['synced']>,
  ): Promise<void> {
    if (!this.envelopes) return;
    const total = Math.max(1, Math.ceil(synced.appointments.length / SYNCED_BATCH));
    for (let index = 0; index < total; index += 1) {
      const batch = synced.appointments.slice(index * SYNCED_BATCH, (index + 1) * SYNCED_BATCH);
      const appointments = [];
      for (const appointment of batch) {
        const envelope = await this.envelopes.encrypt(
          site,
          syncedAppointmentRecordId(appointment.id),
          Buffer.from(JSON.stringify(appointment)),
        );
        appointments.push({
          appointmentId: appointment.id,
          sealed: { alg: 'cc-phi-envelope-v1' as const, envelope: envelope.toString('base64') },
        });
      }
      await this.messaging.outbox.enqueue(
        tx,
        this.messaging.registry.create(Events.appointmentsSynced, site, {
          requestId: request.requestId,
          scope: request.scope,
          from: synced.from,
          to: synced.to,
          batch: { index, total },
          appointments,
        }),
      );
    }
  }

  /**
   * Why a request need not run: a scheduled request for a site with no working EMR connection
   * (schedules exist for every site; only connected ones sync), or a request coalesced into a
   * sync that started after it was made and covers it (a full sync covers a recent one). Requests
   * of one site arrive in order on one partition, so two syncs of a site never run at once.
   */
  private async skipReason(
    siteNumber: string,
    request: { scope: 'recent' | 'full'; requestedBy: string },
    requestedAt: Date,
  ): Promise<string | null> {
    const db = this.dataSource.manager;
    if (request.requestedBy.startsWith('scheduler:')) {
      const connection = await this.connections.find(db, siteNumber);
      if (connection?.status !== 'connected') return 'no connected EMR';
    }
    const status = await this.status.get(db, siteNumber);
    if (
      status?.lastStartedAt &&
      status.lastStartedAt.getTime() > requestedAt.getTime() &&
      (status.lastScope === 'full' || request.scope === 'recent')
    )
      return 'coalesced into a sync started after the request';
    return null;
  }

  async run(
    siteNumber: string,
    scope: 'recent' | 'full',
    requestId: string,
    next: { recent: Date | null; full: Date | null } = { recent: null, full: null },
  ): Promise<SyncOutcome> {
    const db = this.dataSource.manager;
    await this.status.markStarted(db, siteNumber, scope, requestId);
    const outcome = await this.execute(siteNumber, scope).catch(
      async (error: unknown): Promise<SyncOutcome> => {
        if (error instanceof EmrError && error.code === 'auth-rejected') {
          await this.connectionUseCases.deauthorize(siteNumber, error.message);
        }
        const message = error instanceof EmrError ? error.message : 'internal error during sync';
        if (!(error instanceof EmrError))
          this.logger.error({ siteNumber, error: (error as Error).message }, 'sync failed');
        return { ok: false, appointments: 0, providers: 0, problems: [], error: message };
      },
    );
    this.runs?.inc({ site: siteNumber, outcome: outcome.ok ? 'succeeded' : 'failed' });
    const problemText = outcome.problems
      .map((p) => `${p.providerName}: grant ${p.missingPermissions.join(', ')} ${ACCURO_PERMISSION_HINT}`)
      .join('; ');
    await this.status.markFinished(db, siteNumber, {
      ok: outcome.ok,
      error:
        outcome.error ??
        (problemText ? `Some providers' schedules are not visible to the EMR user: ${problemText}` : null),
      appointments: outcome.appointments,
      problems: outcome.problems,
      next,
    });
    this.logger.info(
      {
        siteNumber,
        scope,
        ok: outcome.ok,
        appointments: outcome.appointments,
        problems: outcome.problems.length,
      },
      'emr sync finished',
    );
    return outcome;
  }

  /**
   * Recent: today and the site's "Schedule Days to Sync" days; full: today and the next
   * `fullSyncDays` days (the whole schedule window), whatever the days-to-sync setting.
   */
  private async execute(siteNumber: string, scope: 'recent' | 'full'): Promise<SyncOutcome> {
    const connection = await this.connections.find(this.dataSource.manager, siteNumber);
    if (connection?.status !== 'connected') {
      return {
        ok: false,
        appointments: 0,
        providers: 0,
        problems: [],
        error:
          connection?.status === 'deauthorized'
            ? 'the EMR connection is deauthorized; reconfigure it'
            : 'no EMR connection',
      };
    }
    const adapter = await this.adapters.forSite(siteNumber);
    if (!adapter) throw new EmrError('auth-rejected', 'no credentials stored for the site');
    const providers = await adapter.providers();
    await this.connections.setProviders(this.dataSource.manager, siteNumber, providers);
    const { settings } = await this.settings.get(siteNumber);
    const from = localDate(await this.timeZoneOf(siteNumber));
    const to = addDays(from, (scope === 'full' ? this.fullSyncDays : settings.scheduleDaysToSync) - 1);
    const names = new Map(providers.map((p) => [p.id, p.name]));
    const problems: ProviderProblem[] = [];
    const synced: SyncedAppointment[] = [];
    for (const providerId of settings.syncProviderIds) {
      try {
        for (const appointment of await adapter.appointments(providerId, from, to))
          synced.push({ ...appointment, providerName: names.get(providerId) ?? null });
      } catch (error) {
        if (!(error instanceof EmrError) || (error.code !== 'permission' && error.code !== 'not-found'))
          throw error;
        problems.push({
          providerId,
          providerName: names.get(providerId) ?? `provider ${providerId} (no longer in the EMR)`,
          missingPermissions:
            error.code === 'not-found' ? [] : (error.facts.missingPermissions ?? ['Scheduling']),
        });
      }
    }
    return {
      ok: true,
      appointments: synced.length,
      providers: providers.length,
      problems,
      error: null,
      synced: { from, to, appointments: synced },
    };
  }
}
