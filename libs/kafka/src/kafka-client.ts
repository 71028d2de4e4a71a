import { readFileSync } from 'node:fs';
import { Kafka, logLevel as KafkaLogLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import { installRequestQueueFix } from './request-queue-fix';

installRequestQueueFix();

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
  security?: KafkaSecurity;
}

/**
 * How a service authenticates to the brokers: SASL/SCRAM (its own user, the password read from a
 * file) and/or TLS (the brokers' certificates checked against a CA file, or the public roots).
 */
export interface KafkaSecurity {
  saslMechanism?: 'scram-sha-512' | 'scram-sha-256' | undefined;
  saslUsername?: string | undefined;
  saslPasswordFile?: string | undefined;
  tls?: boolean | undefined;
  tlsCaFile?: string | undefined;
}

function readSecretFile(file: string, what: string): string {
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (text.length === 0) throw new Error('empty');
    return text;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'empty';
    throw new Error(`${what} cannot be read (${code})`);
  }
}

/** kafkajs `sasl`/`ssl` settings; throws (at start-up) when a file is missing or unreadable. */
export function kafkaSecurityConfig(security: KafkaSecurity | undefined): Pick<KafkaConfig, 'sasl' | 'ssl'> {
  const config: Pick<KafkaConfig, 'sasl' | 'ssl'> = {};
  if (security?.tls || security?.tlsCaFile) {
    config.ssl = security.tlsCaFile
      ? { ca: [readSecretFile(security.tlsCaFile, 'KAFKA_TLS_CA_FILE')], rejectUnauthorized: true }
      : { rejectUnauthorized: true };
  }
  if (security?.saslMechanism) {
    if (!security.saslUsername || !security.saslPasswordFile)
      throw new Error(
        'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD_FILE are required with KAFKA_SASL_MECHANISM',
      );
    const credentials = {
      username: security.saslUsername,
      password: readSecretFile(security.saslPasswordFile, 'KAFKA_SASL_PASSWORD_FILE'),
    };
    config.sasl =
      security.saslMechanism === 'scram-sha-512'
        ? { mechanism: 'scram-sha-512', ...credentials }
        : { mechanism: 'scram-sha-256', ...credentials };
  }
  return config;
}

/** A kafkajs client whose own logs go through our structured logger (never console). */
export function createKafka(options: KafkaClientOptions): Kafka {
  const { logger } = options;
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ...kafkaSecurityConfig(options.security),
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
