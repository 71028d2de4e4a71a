/** Kafka header names the messaging mechanism uses. */
export const Header = {
  traceparent: 'traceparent',
  eventType: 'cc-event-type',
  attempt: 'cc-attempt',
  notBefore: 'cc-not-before',
  originalTopic: 'cc-original-topic',
  lastError: 'cc-last-error',
  failedAt: 'cc-failed-at',
  replayedAt: 'cc-replayed-at',
  /** The service that produced the event; consumers check it against the event's allowed producers. */
  producer: 'cc-producer',
} as const;

export type KafkaHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

export function headerString(headers: KafkaHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}
