import type { Kafka } from 'kafkajs';
import { Header, headerString } from './headers';
import type { EventPublisher } from './publisher';
import { deadLetterTopicOf } from './reliable-consumer';

export interface DeadLetter {
  partition: number;
  offset: string;
  originalTopic: string;
  attempts: number;
  lastError: string;
  failedAt: string;
  envelopeId: string | null;
  type: string | null;
  siteId: string | null;
}

export interface ReplayResult {
  topic: string;
  replayed: number;
  remaining: number;
}

/** The dead-letter consumer group of a topic: what it has committed is what has been replayed. */
export function replayGroupOf(topic: string): string {
  return `dlq-replay.${topic}`;
}

function summarize(
  partition: number,
  offset: string,
  value: Buffer | null,
  headers: Record<string, unknown> | undefined,
  topic: string,
): DeadLetter {
  let envelope: { id?: string; type?: string; siteId?: string } = {};
  try {
    envelope = value ? (JSON.parse(value.toString()) as typeof envelope) : {};
  } catch {
    envelope = {};
  }
  const h = headers as Parameters<typeof headerString>[0];
  return {
    partition,
    offset,
    originalTopic: headerString(h, Header.originalTopic) ?? topic,
    attempts: Number(headerString(h, Header.attempt) ?? '0'),
    lastError: headerString(h, Header.lastError) ?? '',
    failedAt: headerString(h, Header.failedAt) ?? '',
    envelopeId: typeof envelope.id === 'string' ? envelope.id : null,
    type: typeof envelope.type === 'string' ? envelope.type : null,
    siteId: typeof envelope.siteId === 'string' ? envelope.siteId : null,
  };
}

/**
 * Reads the dead letters of `topic` not yet replayed, up to the log end as it was at the call
 * (bounded by `limit` and `timeoutMs`), optionally replaying each one to the original topic with
 * its attempt count reset. Returns what it saw. The replay group's commits make replay resumable
 * and never replay the same dead letter twice.
 */
export async function processDeadLetters(options: {
  kafka: Kafka;
  topic: string;
  publisher?: EventPublisher;
  replay: boolean;
  limit?: number;
  timeoutMs?: number;
}): Promise<{ letters: DeadLetter[]; result: ReplayResult }> {
  const dlq = deadLetterTopicOf(options.topic);
  const groupId = replayGroupOf(options.topic);
  const limit = options.limit ?? 1000;
  const admin = options.kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(dlq);
    const committed = await admin.fetchOffsets({ groupId, topics: [dlq] });
    const startOf = new Map<number, bigint>();
    for (const p of committed[0]?.partitions ?? []) startOf.set(p.partition, BigInt(p.offset));
    const pending = new Map<number, bigint>();
    let remaining = 0n;
    for (const p of ends) {
      const start = startOf.get(p.partition) ?? -1n;
      const low = BigInt(p.low);
      const from = start < low ? low : start;
      const high = BigInt(p.high);
      if (high > from) {
        pending.set(p.partition, high);
        remaining += high - from;
      }
    }
    const letters: DeadLetter[] = [];
    if (pending.size === 0) return { letters, result: { topic: options.topic, replayed: 0, remaining: 0 } };

    const consumer = options.kafka.consumer({ groupId, allowAutoTopicCreation: false });
    await consumer.connect();
    await consumer.subscribe({ topic: dlq, fromBeginning: true });
    let replayed = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, options.timeoutMs ?? 30000);
      const finish = (): void => {
        clearTimeout(timer);
        resolve();
      };
      consumer
        .run({
          autoCommit: false,
          eachMessage: async (payload) => {
            const { partition, message } = payload;
            const end = pending.get(partition);
            if (end === undefined || BigInt(message.offset) >= end) {
              payload.pause();
              return;
            }
            if (letters.length >= limit) {
              payload.pause();
              finish();
              return;
            }
            const letter = summarize(
              partition,
              message.offset,
              message.value,
              message.headers,
              options.topic,
            );
            letters.push(letter);
            if (options.replay && options.publisher) {
              const headers: Record<string, string | Buffer> = {};
              for (const [name, value] of Object.entries(message.headers ?? {})) {
                const first = Array.isArray(value) ? value[0] : value;
                if (first !== undefined && name !== Header.notBefore) headers[name] = first;
              }
              headers[Header.attempt] = '1';
              headers[Header.replayedAt] = new Date().toISOString();
              await options.publisher.forward(letter.originalTopic, {
                key: message.key,
                value: message.value,
                headers,
              });
              await consumer.commitOffsets([
                { topic: dlq, partition, offset: (BigInt(message.offset) + 1n).toString() },
              ]);
              replayed += 1;
            }
            if (BigInt(message.offset) + 1n >= end) {
              pending.delete(partition);
              if (pending.size === 0) finish();
            }
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    return {
      letters,
      result: { topic: options.topic, replayed, remaining: Number(remaining) - replayed },
    };
  } finally {
    await admin.disconnect();
  }
}
