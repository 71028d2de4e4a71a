import { PRODUCT_EVENTS, Topics } from '@cloud-connect/contracts';
import { createKafka, EventPublisher, EventRegistry, processDeadLetters } from '@cloud-connect/kafka';
import type { Command } from 'commander';
import { printJson } from './output';

/**
 * `notifications dead-letters [--replay]`: what the notifier gave up on (notification.requested.dlq),
 * and an operator's replay of it to the main topic once the cause is fixed. Replay is resumable
 * and never replays the same dead letter twice; the notifier never sends a notification twice.
 */
export function registerNotificationCommands(program: Command, kafkaBrokers: () => string[]): void {
  const notifications = program.command('notifications').description('e-mail and SMS the notifier delivers');
  notifications
    .command('dead-letters')
    .description('list dead-lettered notification requests not yet replayed; --replay sends them again')
    .option('--replay', 'replay them to notification.requested')
    .option('--limit <n>', 'at most this many', '1000')
    .action(async (options: { replay?: boolean; limit: string }) => {
      const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'cloud-connect-cli' });
      const publisher = options.replay
        ? new EventPublisher(kafka, new EventRegistry(PRODUCT_EVENTS))
        : undefined;
      await publisher?.connect();
      try {
        const { letters, result } = await processDeadLetters({
          kafka,
          topic: Topics.notificationRequested,
          replay: options.replay === true,
          limit: Number(options.limit),
          timeoutMs: 20000,
          ...(publisher ? { publisher } : {}),
        });
        printJson({ deadLetters: letters, ...result });
      } finally {
        await publisher?.disconnect();
      }
    });
}
