/**
 * Retry topics tiered by delay. A failed message waits for its not-before time at the head of a
 * retry topic's partition; if every delay shared one topic, a message with a long backoff would
 * hold up every shorter retry queued behind it. Each tier holds delays from its own bound up to
 * the next tier's, so the head of a tier never waits much longer than the messages behind it.
 */
export interface RetryTier {
  /** Topic suffix after the main topic's name, e.g. `emr.command.retry.1m`. */
  suffix: string;
  /** The shortest delay this tier is for. */
  fromMs: number;
}

export const RETRY_TIERS: readonly RetryTier[] = [
  { suffix: 'retry.5s', fromMs: 0 },
  { suffix: 'retry.1m', fromMs: 60_000 },
  { suffix: 'retry.10m', fromMs: 600_000 },
];

/** Every retry topic of a main topic, shortest tier first. */
export function retryTopicsOf(topic: string): string[] {
  return RETRY_TIERS.map((tier) => `${topic}.${tier.suffix}`);
}

/** The retry topic for a message that must wait `delayMs` before its next attempt. */
export function retryTopicFor(topic: string, delayMs: number): string {
  let chosen = RETRY_TIERS[0];
  for (const tier of RETRY_TIERS) if (delayMs >= tier.fromMs) chosen = tier;
  return `${topic}.${chosen?.suffix ?? 'retry.5s'}`;
}

/** The main topic of a retry topic, or undefined when `topic` is not one. */
export function mainTopicOfRetry(topic: string): string | undefined {
  for (const tier of RETRY_TIERS) {
    const suffix = `.${tier.suffix}`;
    if (topic.endsWith(suffix)) return topic.slice(0, -suffix.length);
  }
  return undefined;
}
