import { Kafka, logLevel as KafkaLogLevel, type LogEntry } from 'kafkajs';

export interface MessagingLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger?: MessagingLogger;
  /** How long to keep retrying a broker connection before an operation fails (ms). */
  connectionTimeoutMs?: number;
}

/** A kafkajs client whose own logs go through our structured logger (never console). */
export function createKafka(options: KafkaClientOptions): Kafka {
  const { logger } = options;
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: 30000,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10000 },
    logLevel: KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, log, namespace }: LogEntry) => {
        if (!logger) return;
        const { message, ...extra } = log;
        const entry = { component: 'kafkajs', namespace, ...extra };
        if (level === KafkaLogLevel.ERROR) logger.error(entry, message);
        else if (level === KafkaLogLevel.WARN) logger.warn(entry, message);
        else if (level === KafkaLogLevel.INFO) logger.info(entry, message);
        else logger.debug(entry, message);
      },
  });
}
