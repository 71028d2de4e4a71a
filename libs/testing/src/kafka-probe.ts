import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { sleep } from './wait';

export interface ReadMessage {
  key: string | null;
  value: string;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/**
 * Reads a topic from the beginning as a consumer would (read_committed), until `expected`
 * messages arrived and then `settleMs` more passed with nothing new, or until `timeoutMs`.
 * The settle time is what lets a test see a duplicate that would arrive after the expected count.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  options: { expected: number; timeoutMs?: number; settleMs?: number },
): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({ groupId: `probe-${randomUUID()}`, allowAutoTopicCreation: false });
  const messages: ReadMessage[] = [];
  let lastArrival = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: ({ partition, message }) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.headers ?? {})) {
        const first = Array.isArray(value) ? value[0] : value;
        if (first !== undefined) headers[name] = first.toString();
      }
      messages.push({
        key: message.key?.toString() ?? null,
        value: message.value?.toString() ?? '',
        headers,
        partition,
        offset: message.offset,
      });
      lastArrival = Date.now();
      return Promise.resolve();
    },
  });
  const deadline = Date.now() + (options.timeoutMs ?? 60000);
  const settleMs = options.settleMs ?? 1500;
  while (Date.now() < deadline) {
    if (messages.length >= options.expected && Date.now() - lastArrival >= settleMs) break;
    await sleep(100);
  }
  await consumer.disconnect();
  return messages;
}
