import type { Admin } from 'kafkajs';

export interface TopicSpecLike {
  name: string;
  partitions: number;
  config?: Record<string, string>;
}

/**
 * Creates the topics that do not exist yet (auto-creation is off on our brokers) and waits for
 * their leaders. Existing topics are left as they are. Returns the names it created.
 */
export async function ensureTopics(
  admin: Admin,
  specs: readonly TopicSpecLike[],
  replicationFactor = 1,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((spec) => !existing.has(spec.name));
  if (missing.length === 0) return [];
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((spec) => ({
      topic: spec.name,
      numPartitions: spec.partitions,
      replicationFactor,
      configEntries: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
    })),
  });
  return missing.map((spec) => spec.name);
}
