import type { Logger } from '@cloud-connect/observability';
import type { MessagingService, SiteReplica } from '@cloud-connect/service-kit';
import { EMR_TYPE_NAMES } from '../adapters/emr-adapter';
import { clinicalAdminAlert } from '../common/site-events';
import { ConnectionsRepository } from '../connections/connections.repository';
import type { EmrConnections } from '../connections/emr-connections';
import { CommandsRepository, type QueuedCommand } from './commands.repository';
import { decideFailure } from './failure-policy';
import { PatientMatchError } from './patient-match';

export interface FailureSettings {
  schema: string;
  retryScheduleMs: number[];
  horizonMs: number;
  reminderMs: number;
}

/**
 * What a failed command attempt becomes (failure-policy.ts decides): held for a patient, the
 * site deauthorized (commands hold), a retry (with the delivery-failing alert and its reminder),
 * or a dead letter (alerted). Each outcome and its alert are one transaction.
 */
export class CommandFailures {
  private readonly commands: CommandsRepository;
  private readonly connections: ConnectionsRepository;

  constructor(
    private readonly messaging: MessagingService,
    private readonly connectionUseCases: EmrConnections,
    private readonly sites: SiteReplica,
    private readonly options: FailureSettings,
    private readonly logger: Logger,
  ) {
    this.commands = new CommandsRepository(options.schema);
    this.connections = new ConnectionsRepository(options.schema);
  }

  /** `writeRefused`: the EMR answered this attempt's write with an error (nothing to read back). */
  async fail(head: QueuedCommand, ids: string[], error: unknown, writeRefused: boolean): Promise<void> {
    const site = head.siteNumber;
    if (error instanceof PatientMatchError) {
      await this.holdForPatient(head, error);
      return;
    }
    const failingFor = head.firstFailedAt ? Date.now() - head.firstFailedAt.getTime() : 0;
    const decision = decideFailure(
      error,
      head.attempts,
      failingFor,
      this.options.retryScheduleMs,
      this.options.horizonMs,
    );
    this.logger.warn(
      {
        siteNumber: site,
        commandId: head.commandId,
        kind: head.kind,
        attempts: head.attempts + 1,
        action: decision.action,
        reason: decision.reason,
      },
      'emr command attempt failed',
    );
    if (decision.action === 'hold') {
      await this.connectionUseCases.deauthorize(site, decision.reason);
      return;
    }
    const locale = (await this.sites.find(site))?.locale ?? 'en';
    await this.messaging.transaction(async (tx) => {
      const connection = await this.connections.find(tx, site);
      const emr = connection ? EMR_TYPE_NAMES[connection.emrType] : 'EMR';
      if (decision.action === 'dead-letter') {
        await this.commands.deadLetter(tx, site, ids, decision.reason);
        await this.messaging.outbox.enqueue(
          tx,
          clinicalAdminAlert(this.messaging.registry, site, locale, 'emr-command-dead-lettered', {
            emr,
            kind: head.kind,
            commandId: head.commandId,
            reason: decision.reason,
          }),
        );
        return;
      }
      await this.commands.scheduleRetry(
        tx,
        site,
        head.commandId,
        decision.delayMs,
        decision.reason,
        writeRefused,
      );
      if (!decision.alert) return;
      if (await this.connections.startDeliveryFailure(tx, site, decision.reason, this.options.reminderMs)) {
        await this.messaging.outbox.enqueue(
          tx,
          clinicalAdminAlert(this.messaging.registry, site, locale, 'emr-delivery-failing', {
            emr,
            reason: decision.reason,
          }),
        );
      } else if (await this.connections.claimReminder(tx, site, this.options.reminderMs)) {
        await this.messaging.outbox.enqueue(
          tx,
          clinicalAdminAlert(this.messaging.registry, site, locale, 'emr-delivery-failing-reminder', {
            emr,
            reason: decision.reason,
            failingSince: connection?.deliveryFailingSince?.toISOString() ?? '',
          }),
        );
      }
    });
  }

  /**
   * No chart, or several, fit the patient: nothing is written; the command (and its patient's
   * line) waits for a site admin to pick the chart, who is alerted once.
   */
  private async holdForPatient(head: QueuedCommand, error: PatientMatchError): Promise<void> {
    const site = head.siteNumber;
    this.logger.warn(
      { siteNumber: site, commandId: head.commandId, kind: head.kind, reason: error.code },
      'emr command held: patient not matched',
    );
    const locale = (await this.sites.find(site))?.locale ?? 'en';
    await this.messaging.transaction(async (tx) => {
      if (!(await this.commands.hold(tx, site, head.commandId, error.message, error.candidates))) return;
      const connection = await this.connections.find(tx, site);
      await this.messaging.outbox.enqueue(
        tx,
        clinicalAdminAlert(this.messaging.registry, site, locale, 'emr-patient-unmatched', {
          emr: connection ? EMR_TYPE_NAMES[connection.emrType] : 'EMR',
          kind: head.kind,
          commandId: head.commandId,
          reason: error.message,
        }),
      );
    });
  }
}
