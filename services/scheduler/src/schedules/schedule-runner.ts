import { Events } from '@cloud-connect/contracts';
import type { Logger } from '@cloud-connect/observability';
import type { MessagingService } from '@cloud-connect/service-kit';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { SchedulerConfig } from '../config';
import type { OptOutTokens } from '../reminders/opt-out-token';
import { RemindersRepository, type DueReminder } from '../reminders/reminders.repository';
import { nextInterval, nextNightly } from './next-run';
import { SchedulesRepository, type Schedule, type ScheduleKind } from './schedules.repository';

const TEMPLATES: Record<string, string> = {
  reminder: 'reminder.appointment',
  'notice-booked': 'appointment.booked',
  'notice-moved': 'appointment.moved',
  'notice-cancelled': 'appointment.cancelled',
};

/**
 * The product's clock, run by every replica: each tick (1) gives every site of the directory its
 * two sync schedules, (2) fires due schedules and (3) hands due reminders to the notifier. Due rows
 * are taken with `FOR UPDATE SKIP LOCKED` in one transaction with the outbox write and the row's
 * next slot, so a slot fires once whatever the number of replicas, a replica killed mid-run
 * leaves the row to the next one (its transaction never committed), and a replica down for
 * several slots runs once on catching up (the next slot is computed from now).
 */
/** What the runner works with (its opt-out tokens sign the stop links of reminders). */
export interface ScheduleRunnerDeps {
  dataSource: DataSource;
  messaging: MessagingService;
  config: SchedulerConfig;
  optOut: OptOutTokens;
  logger: Logger;
}

export class ScheduleRunner {
  private readonly schedules: SchedulesRepository;
  private readonly reminders: RemindersRepository;
  readonly runnerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: ScheduleRunnerDeps) {
    this.schedules = new SchedulesRepository(deps.config.DATABASE_SCHEMA);
    this.reminders = new RemindersRepository(deps.config.DATABASE_SCHEMA);
  }

  start(): void {
    this.stopped = false;
    const loop = (): void => {
      if (this.stopped) return;
      this.running = this.tick()
        .catch((error: unknown) =>
          this.deps.logger.warn(
            { error: (error as Error).message },
            'scheduler tick failed; retrying next tick',
          ),
        )
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(loop, this.deps.config.SCHEDULER_TICK_MS);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  async tick(): Promise<void> {
    await this.scheduleNewSites();
    while ((await this.fireDue()) > 0 && !this.stopped);
    while ((await this.sendDueReminders()) > 0 && !this.stopped);
  }

  /** The next slot of a schedule after a run at `ranAt`. */
  nextSlot(kind: ScheduleKind, ranAt: Date, timezone: string): Date {
    if (kind === 'sync-recent') return nextInterval(ranAt, this.deps.config.SYNC_RECENT_INTERVAL_MS);
    if (this.deps.config.SYNC_FULL_INTERVAL_MS)
      return nextInterval(ranAt, this.deps.config.SYNC_FULL_INTERVAL_MS);
    return nextNightly(ranAt, timezone, this.deps.config.SYNC_FULL_LOCAL_TIME);
  }

  private async scheduleNewSites(): Promise<void> {
    const db = this.deps.dataSource.manager;
    const sites = await this.schedules.sitesToSchedule(db);
    if (sites.length === 0) return;
    const now = await this.schedules.now(db);
    for (const site of sites) {
      // A new site syncs its recent appointments at once; its full sync waits for its night.
      await this.schedules.upsert(db, site.siteNumber, 'sync-recent', site.timezone, now);
      await this.schedules.upsert(
        db,
        site.siteNumber,
        'sync-full',
        site.timezone,
        this.nextSlot('sync-full', now, site.timezone),
      );
      this.deps.logger.info(
        { siteNumber: site.siteNumber, timezone: site.timezone },
        'site sync schedules set',
      );
    }
  }

  private async fireDue(): Promise<number> {
    return this.deps.messaging.transaction(async (tx) => {
      const due = await this.schedules.lockDue(tx, 20);
      if (due.length === 0) return 0;
      const now = await this.schedules.now(tx);
      for (const schedule of due) await this.fire(tx, schedule, now);
      return due.length;
    });
  }

  private async fire(tx: EntityManager, schedule: Schedule, now: Date): Promise<void> {
    const requestId = randomUUID();
    const nextRunAt = this.nextSlot(schedule.kind, now, schedule.timezone);
    const all = await this.schedules.list(tx, schedule.siteNumber);
    const nextOf = (kind: ScheduleKind): Date | undefined =>
      kind === schedule.kind ? nextRunAt : all.find((s) => s.kind === kind)?.nextRunAt;
    const nextRecent = nextOf('sync-recent');
    const nextFull = nextOf('sync-full');
    await this.deps.messaging.outbox.enqueue(
      tx,
      this.deps.messaging.registry.create(Events.syncRequested, schedule.siteNumber, {
        requestId,
        scope: schedule.kind === 'sync-full' ? 'full' : 'recent',
        requestedBy: `scheduler:${schedule.kind}`,
        scheduledFor: schedule.nextRunAt.toISOString(),
        ...(nextRecent ? { nextRecentAt: nextRecent.toISOString() } : {}),
        ...(nextFull ? { nextFullAt: nextFull.toISOString() } : {}),
      }),
    );
    await this.schedules.markRan(tx, schedule.siteNumber, schedule.kind, {
      slotAt: schedule.nextRunAt,
      ranAt: now,
      nextRunAt,
      requestId,
      runner: this.runnerId,
    });
    this.deps.logger.info(
      {
        siteNumber: schedule.siteNumber,
        kind: schedule.kind,
        slot: schedule.nextRunAt.toISOString(),
        lateMs: now.getTime() - schedule.nextRunAt.getTime(),
        requestId,
      },
      'schedule fired',
    );
  }

  private async sendDueReminders(): Promise<number> {
    return this.deps.messaging.transaction(async (tx) => {
      const due = await this.reminders.lockDue(tx, 50);
      for (const item of due) await this.sendOne(tx, item);
      return due.length;
    });
  }

  /** Why a due reminder must not go, or null to send it. */
  private refusal(item: DueReminder, now: Date): string | null {
    const { reminder: r, appointment: a } = item;
    if (r.kind === 'reminder') {
      if (a.status !== 'booked') return `appointment-${a.status}`;
      if (!a.startsAt || a.startsAt.getTime() !== r.appointmentStart?.getTime()) return 'appointment-moved';
      if (a.startsAt.getTime() <= now.getTime()) return 'appointment-past';
    }
    if (item.optedOut) return 'opted-out';
    return null;
  }

  private async sendOne(tx: EntityManager, item: DueReminder): Promise<void> {
    const { reminder: r, appointment: a, site } = item;
    const now = new Date();
    const refusal = this.refusal(item, now);
    if (refusal) {
      await this.reminders.finish(tx, r.siteNumber, r.id, 'cancelled', refusal);
      return;
    }
    if (!site) throw new Error(`site ${r.siteNumber} is not known here yet`);
    if (!a.patientContact || !a.contactRecordId || !a.patientChannels.includes(r.channel)) {
      await this.reminders.finish(tx, r.siteNumber, r.id, 'failed', `no-${r.channel}-contact`);
      return;
    }
    const params: Record<string, string> = {
      siteName: site.name,
      timezone: site.timezone,
      at: (a.startsAt ?? now).toISOString(),
    };
    if (a.patientRef)
      params['stopUrl'] =
        `${this.deps.config.PUBLIC_BASE_URL.replace(/\/$/, '')}/public/reminders/stop?t=${this.deps.optOut.sign(
          r.siteNumber,
          a.patientRef,
        )}`;
    // The reminder's id is the notification's: the notifier never sends one id twice.
    await this.deps.messaging.outbox.enqueue(
      tx,
      this.deps.messaging.registry.create(Events.notificationRequested, r.siteNumber, {
        notificationId: r.id,
        channel: r.channel,
        template: TEMPLATES[r.kind] ?? 'reminder.appointment',
        locale: a.patientLocale ?? site.locale,
        recipient: 'patient',
        params,
        sealedRecipient: {
          recordId: a.contactRecordId,
          alg: 'cc-phi-envelope-v1',
          envelope: a.patientContact,
        },
      }),
    );
    await this.reminders.finish(tx, r.siteNumber, r.id, 'sent', null);
    this.deps.logger.info(
      {
        siteNumber: r.siteNumber,
        reminderId: r.id,
        kind: r.kind,
        channel: r.channel,
        lateMs: now.getTime() - r.dueAt.getTime(),
      },
      'reminder handed to the notifier',
    );
  }
}
