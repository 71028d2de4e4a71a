import type { MessagingService } from '@cloud-connect/service-kit';
import type { DataSource } from 'typeorm';
import { auditEntry } from '../common/site-events';
import { CommandError } from './command-error';
import { CommandsRepository } from './commands.repository';

/**
 * A site admin's actions on the EMR command queue: inspect a command, the dead letters and the
 * commands waiting for a patient; release a held command into a chart; replay a dead letter.
 * Each change and its audit entry are one transaction; `wake` then tells the dispatcher.
 */
export class CommandAdmin {
  private readonly commands: CommandsRepository;

  constructor(
    private readonly dataSource: DataSource,
    schema: string,
    private readonly messaging: MessagingService,
    private readonly wake: () => void = () => undefined,
  ) {
    this.commands = new CommandsRepository(schema);
  }

  /** Releases a held command into the chart the admin picked (an EMR chart id). */
  async release(siteNumber: string, commandId: string, patientId: string, actor: string): Promise<void> {
    await this.messaging.transaction(async (tx) => {
      if (!(await this.commands.release(tx, siteNumber, commandId, patientId))) {
        throw new CommandError('not-held', `command ${commandId} is not waiting for a patient at this site`);
      }
      await this.messaging.outbox.enqueue(
        tx,
        auditEntry(this.messaging.registry, siteNumber, actor, 'emr.command.release', 'allowed'),
      );
    });
    this.wake();
  }

  /** An admin's replay of a dead-lettered command. */
  async replay(siteNumber: string, commandId: string, actor: string): Promise<void> {
    await this.messaging.transaction(async (tx) => {
      if (!(await this.commands.replay(tx, siteNumber, commandId))) {
        throw new CommandError('not-dead-lettered', `command ${commandId} is not dead-lettered at this site`);
      }
      await this.messaging.outbox.enqueue(
        tx,
        auditEntry(this.messaging.registry, siteNumber, actor, 'emr.command.replay', 'allowed'),
      );
    });
    this.wake();
  }

  held(siteNumber: string): Promise<Record<string, unknown>[]> {
    return this.commands.heldCommands(this.dataSource.manager, siteNumber);
  }

  deadLetters(siteNumber: string): Promise<Record<string, unknown>[]> {
    return this.commands.deadLetters(this.dataSource.manager, siteNumber);
  }

  async state(siteNumber: string, commandId: string): Promise<Record<string, unknown>> {
    const state = await this.commands.state(this.dataSource.manager, siteNumber, commandId);
    if (!state) throw new CommandError('not-found', `no command ${commandId} at this site`);
    return state;
  }
}
