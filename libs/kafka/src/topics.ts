import type { Admin } from 'kafkajs';

export interface TopicSpecLike {
  name: string;
  partitions: number;
  config?: Record<string, string>;
}

/** How new topics are replicated: KAFKA_TOPIC_REPLICATION_FACTOR / _MIN_INSYNC_REPLICAS. */
export interface TopicReplication {
  replicationFactor: number;
  /** The topic's min.insync.replicas; the broker's default when absent. */
  minInsyncReplicas?: number;
}

/**
 * Creates the topics that do not exist yet (auto-creation is off on our brokers) and waits for
 * their leaders. Existing topics are left as they are. Returns the names it created.
 */
export async function ensureTopics(
  admin: Admin,
  specs: readonly TopicSpecLike[],
  replication: number | TopicReplication = 1,
): Promise<string[]> {
  const { replicationFactor, minInsyncReplicas } =
    typeof replication === 'number'
      ? { replicationFactor: replication, minInsyncReplicas: undefined }
      : replication;
  const isr: Record<string, string> =
    minInsyncReplicas === undefined ? {} : { 'min.insync.replicas': String(minInsyncReplicas) };
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((spec) => !existing.has(spec.name));
  if (missing.length === 0) return [];
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((spec) => ({
      topic: spec.name,
      numPartitions: spec.partitions,
      replicationFactor,
      configEntries: Object.entries<string>({ ...isr, ...spec.config }).map(([name, value]) => ({
        name,
        value,
      })),
    })),
  });
  return missing.map((spec) => spec.name);
}
