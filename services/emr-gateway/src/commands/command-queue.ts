import { Events } from '@cloud-connect/contracts';
import type { Envelope } from '@cloud-connect/kafka';
import type { Logger } from '@cloud-connect/observability';
import type { MessagingService } from '@cloud-connect/service-kit';
import { createHash } from 'node:crypto';
import { Gauge, type Registry } from 'prom-client';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { EmrError, type EmrAdapter, type EmrType } from '../adapters/emr-adapter';
import { ConnectionsRepository } from '../connections/connections.repository';
import type { EmrAdapters } from '../connections/emr-adapters';
import type { EmrSettings } from '../settings/emr-settings';
import type { EmrSettingsService } from '../settings/emr-settings.service';
import { applyCommand, type ApplyResult, type WriteAttempt } from './apply-command';
import type { CommandFailures } from './command-failures';
import { commandContent, type CommandKind } from './command-content';
import { CommandsRepository, type QueuedCommand } from './commands.repository';
import { combineNotes } from './failure-policy';
import type { PhiCipher } from './phi-cipher';

export interface QueueSettings {
  schema: string;
  sittingWaitMs: number;
  /** How long after it was sent a write that got no answer may still be filed (HTTP timeout + settle). */
  writeInFlightMs: number;
  intervalMs: number;
  concurrency: number;
}

/**
 * Resolves queued commands the queue cannot apply itself (a message not yet read: the chart
 * intake above this layer reads it and queues the commands it becomes), and reads the events
 * the gateway's consumer hands it.
 */
export interface CommandResolver {
  /** The internal command kinds it resolves. */
  readonly kinds: ReadonlySet<string>;
  /** True if it queued what the command becomes (the queue looks again at once). */
  resolve(head: QueuedCommand, settings: EmrSettings, emrType: EmrType): Promise<boolean>;
  /** A `referral.received` / `form.completed` read into chart commands; true if any was queued. */
  handle(envelope: Envelope, tx: EntityManager): Promise<boolean>;
}

/** The queue depth and the oldest pending command's age, per site (Prometheus gauges). */
export function registerQueueMetrics(metrics: Registry, dataSource: DataSource, schema: string): void {
  const commands = new CommandsRepository(schema);
  const stats = (): Promise<{ siteNumber: string; pending: number; oldestPendingSeconds: number }[]> =>
    commands.statsAcrossSites(dataSource.manager);
  new Gauge({
    name: 'emr_command_queue_depth',
    help: 'EMR commands waiting to be applied, per site',
    labelNames: ['site'],
    registers: [metrics],
    async collect() {
      this.reset();
      for (const s of await stats()) this.set({ site: s.siteNumber }, s.pending);
    },
  });
  new Gauge({
    name: 'emr_command_oldest_pending_seconds',
    help: 'Age of the oldest EMR command waiting to be applied, per site',
    labelNames: ['site'],
    registers: [metrics],
    async collect() {
      this.reset();
      for (const s of await stats()) this.set({ site: s.siteNumber }, s.oldestPendingSeconds);
    },
  });
}

const DISPATCHER_LOCK = 7300006;

/** A one-shot signal: a promise and the function that settles it. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
/** Command kinds whose write leaves an entry the EMR can list (a note, a document). */
const READ_BACK_KINDS: ReadonlySet<string> = new Set(['save-progress-note', 'attach-pdf']);

/**
 * The no-loss EMR command queue. Intake: `emr.command` envelopes are written to `emr_commands`
 * inside the consumer's dedupe transaction (the offset commits after). Dispatch: one replica (a
 * Postgres advisory lock) applies the due head of each patient's line through the site's adapter,
 * with the command id as the EMR's idempotency key; failures become hold / retry / dead-letter.
 */
export class EmrCommandQueue {
  private readonly commands: CommandsRepository;
  private readonly connections: ConnectionsRepository;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lockRunner: QueryRunner | undefined;
  private wakeRequested = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly messaging: MessagingService,
    private readonly adapters: EmrAdapters,
    private readonly settings: EmrSettingsService,
    private readonly cipher: PhiCipher,
    private readonly failures: CommandFailures,
    private readonly options: QueueSettings,
    private readonly logger: Logger,
    private readonly resolver?: CommandResolver,
  ) {
    this.commands = new CommandsRepository(options.schema);
    this.connections = new ConnectionsRepository(options.schema);
  }

  /** `referral.received` / `form.completed` into chart commands, when the queue has chart intake. */
  async intakeChart(envelope: Envelope, tx: EntityManager): Promise<void> {
    if (this.resolver && (await this.resolver.handle(envelope, tx))) this.wakeRequested = true;
  }

  /** An `emr.command` into the queue, in the consumer's transaction (the offset commits after). */
  async intake(envelope: Envelope, tx: EntityManager): Promise<void> {
    if (envelope.type !== Events.emrCommand.type) return;
    const command = Events.emrCommand.schema.parse(envelope.payload);
    await this.commands.enqueue(tx, envelope.siteId, {
      commandId: command.commandId,
      patientKey: command.patientKey,
      occurredAt: envelope.occurredAt,
      kind: command.kind,
      sealed: command.sealed ?? null,
      sitting: command.sitting ?? null,
    });
    this.wakeRequested = true;
  }

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.running = this.dispatchOnce()
        .then(() => undefined)
        .catch((error: unknown) =>
          this.logger.warn({ error: (error as Error).message }, 'emr dispatch cycle failed'),
        )
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.wakeRequested ? 0 : this.options.intervalMs);
          this.wakeRequested = false;
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (this.lockRunner) await this.lockRunner.release().catch(() => undefined);
  }

  /** True if this replica holds the dispatcher lock (a session advisory lock on its own connection). */
  private async leader(): Promise<boolean> {
    if (!this.lockRunner) {
      this.lockRunner = this.dataSource.createQueryRunner();
      await this.lockRunner.connect();
    }
    try {
      const rows = (await this.lockRunner.query('SELECT pg_try_advisory_lock($1) AS locked', [
        DISPATCHER_LOCK,
      ])) as { locked: boolean }[];
      return rows[0]?.locked === true;
    } catch (error) {
      await this.lockRunner.release().catch(() => undefined);
      this.lockRunner = undefined;
      throw error;
    }
  }

  /**
   * Applies what is due, `concurrency` patient lines at a time, as a rolling pool: a worker that
   * finishes takes the next due head at once (fetched again when its own line's successor, a
   * command resolved in place, or a newly queued one may be due) instead of waiting for the
   * slowest command of a fixed batch. A line is never worked on twice at once, and a command is
   * tried at most once per call in a given kind (a sitting still waiting for its forms is looked
   * at again on the next tick, not spun on).
   */
  async dispatchOnce(): Promise<number> {
    if (!(await this.leader())) return 0;
    const lineOf = (c: QueuedCommand): string => `${c.siteNumber}\u0000${c.patientKey}`;
    const tryOf = (c: QueuedCommand): string => `${c.commandId}\u0000${c.kind}`;
    const busy = new Set<string>();
    const tried = new Set<string>();
    let due: QueuedCommand[] = [];
    let stale = true;
    let fetching: Promise<void> | undefined;
    let done = 0;
    // Idle workers wait for a busy one to finish (its line's next command may then be due).
    let finished = signal();
    const fetchDue = async (): Promise<void> => {
      stale = false;
      this.wakeRequested = false;
      const heads = await this.commands.dueHeadsAcrossSites(
        this.dataSource.manager,
        this.options.concurrency * 8,
      );
      due = heads.filter((c) => !busy.has(lineOf(c)) && !tried.has(tryOf(c)));
    };
    const worker = async (): Promise<void> => {
      while (!this.stopped) {
        const next = due.shift();
        if (!next) {
          if (!stale && !this.wakeRequested) {
            if (busy.size === 0) return;
            await finished.promise;
            continue;
          }
          fetching ??= fetchDue().finally(() => (fetching = undefined));
          await fetching;
          continue;
        }
        if (busy.has(lineOf(next)) || tried.has(tryOf(next))) continue;
        busy.add(lineOf(next));
        tried.add(tryOf(next));
        try {
          if (await this.process(next)) done += 1;
        } finally {
          busy.delete(lineOf(next));
          stale = true;
          finished.resolve();
          finished = signal();
        }
      }
    };
    await Promise.all(Array.from({ length: this.options.concurrency }, worker));
    if (done > 0) this.wakeRequested = true;
    return done;
  }

  /** Opens a command's sealed content (plaintext only in memory). */
  private async open(command: QueuedCommand): Promise<unknown> {
    if (!command.sealed) throw new EmrError('invalid', 'command has no content');
    const plaintext = await this.cipher.open(command.siteNumber, command.commandId, command.sealed);
    return JSON.parse(plaintext.toString('utf8')) as unknown;
  }

  private async process(head: QueuedCommand): Promise<boolean> {
    const site = head.siteNumber;
    let batch = [head];
    const attempt: WriteAttempt = { lookFirst: false, refused: false };
    try {
      const adapter = await this.adapters.forSite(site);
      if (!adapter) throw new EmrError('auth-rejected', 'no credentials stored for the site');
      const { settings } = await this.settings.get(site);
      let result: ApplyResult;
      let combinedKey: string | null = null;
      if (this.resolver?.kinds.has(head.kind)) {
        const connection = await this.connections.find(this.dataSource.manager, site);
        if (connection && (await this.resolver.resolve(head, settings, connection.emrType))) {
          this.wakeRequested = true;
          return false;
        }
        result = { outcome: 'skipped', emrRecordId: null };
      } else if (
        head.kind === 'save-progress-note' &&
        head.sittingId &&
        (head.sittingTotal ?? 1) > 1 &&
        settings.combineProgressNotes
      ) {
        batch = await this.commands.pendingInSitting(
          this.dataSource.manager,
          site,
          head.patientKey,
          head.sittingId,
        );
        const waited = Date.now() - head.receivedAt.getTime();
        if (batch.length < (head.sittingTotal ?? 1) && waited < this.options.sittingWaitMs) return false;
        const contents = await Promise.all(batch.map((c) => this.open(c)));
        const notes = contents.map((c) => commandContent['save-progress-note'].parse(c));
        const first = notes[0];
        if (!first) return false;
        combinedKey = `sitting-${createHash('sha256')
          .update(batch.map((c) => c.commandId).join(','))
          .digest('hex')
          .slice(0, 32)}`;
        const combined = { patient: first.patient, text: combineNotes(notes) };
        if (!(await this.prepareWrite(attempt, adapter, 'save-progress-note', batch))) return false;
        result = await applyCommand(
          adapter,
          'save-progress-note',
          combined,
          combinedKey,
          settings,
          [],
          null,
          attempt,
        );
      } else {
        const connection = await this.connections.find(this.dataSource.manager, site);
        const content = await this.open(head);
        if (!(await this.prepareWrite(attempt, adapter, head.kind, batch))) return false;
        result = await applyCommand(
          adapter,
          head.kind as CommandKind,
          content,
          head.commandId,
          settings,
          connection?.providers.map((p) => p.id) ?? [],
          head.chosenPatientId,
          attempt,
        );
      }
      await this.messaging.transaction(async (tx) => {
        await this.commands.markDone(
          tx,
          site,
          batch.map((c) => c.commandId),
          result.outcome,
          result.emrRecordId,
          combinedKey,
        );
        const row = await this.connections.find(tx, site);
        if (row?.deliveryFailingSince) {
          // The EMR answers again: the waiting commands are due now; the outage ends (and a later
          // failure alerts anew) only once no command that failed during it is still waiting.
          await this.commands.wakeSite(tx, site);
          if ((await this.commands.failingCount(tx, site)) === 0)
            await this.connections.clearDeliveryFailure(tx, site);
        }
      });
      return true;
    } catch (error) {
      await this.failures.fail(
        head,
        batch.map((c) => c.commandId),
        error,
        attempt.refused,
      );
      return false;
    }
  }

  /**
   * Where the EMR can be read back, a note or document write is recorded (committed) just before
   * it is sent; an attempt that finds it recorded by an earlier one (which then got no answer it
   * could record: a crash, a timeout) reads the chart before writing again, but only once that
   * write can no longer be on its way: an EMR may file a request after its sender died, and a
   * read-back before then would find nothing and write a second copy. False when the command must
   * wait for that (it is due again then).
   */
  private async prepareWrite(
    attempt: WriteAttempt,
    adapter: EmrAdapter,
    kind: string,
    batch: QueuedCommand[],
  ): Promise<boolean> {
    if (!adapter.findWritten || !READ_BACK_KINDS.has(kind)) return true;
    const site = batch[0]?.siteNumber ?? '';
    const ids = batch.map((c) => c.commandId);
    attempt.lookFirst = batch.some((c) => c.writeStartedAt !== null);
    if (
      attempt.lookFirst &&
      (await this.commands.waitForWriteInFlight(
        this.dataSource.manager,
        site,
        ids,
        this.options.writeInFlightMs,
      ))
    )
      return false;
    attempt.beforeWrite = () => this.commands.markWriting(this.dataSource.manager, site, ids);
    return true;
  }

  /** Wakes the dispatcher now (a command was queued, released or replayed). */
  wake(): void {
    this.wakeRequested = true;
  }
}
