import { createServiceDataSource, MessagingTables1732300000000, migrateSchema } from '@cloud-connect/db';
import { ensureTopics, retryTopicsOf } from '@cloud-connect/kafka';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';

/** A logger for messaging parts under test that prints nothing. */
export const silentLogger = {
  error: (): void => undefined,
  warn: (): void => undefined,
  info: (): void => undefined,
  debug: (): void => undefined,
};

/** A fresh schema with the messaging tables (outbox, dedupe records), its data source initialized. */
export async function messagingSchema(
  url: string,
  schema: string,
  applicationName: string,
): Promise<DataSource> {
  const dataSource = createServiceDataSource({
    url,
    schema,
    applicationName,
    migrations: [MessagingTables1732300000000],
  });
  await dataSource.initialize();
  await migrateSchema(dataSource);
  return dataSource;
}

/** Main topics with their retry tiers (`partitions` each) and a one-partition `.dlq`. */
export async function createTopicsWithTiers(kafka: Kafka, topics: string[], partitions = 1): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(
      admin,
      topics.flatMap((topic) => [
        { name: topic, partitions },
        ...retryTopicsOf(topic).map((name) => ({ name, partitions })),
        { name: `${topic}.dlq`, partitions: 1 },
      ]),
    );
  } finally {
    await admin.disconnect();
  }
}
