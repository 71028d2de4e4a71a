import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One Prometheus registry per process, with Node defaults and the service label. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export function httpMetrics(registry: Registry): { requests: Histogram<'method' | 'route' | 'status'> } {
  return {
    requests: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}

export function messagingMetrics(
  registry: Registry,
  pendingCount: () => Promise<number>,
): {
  consumed: Counter<'topic' | 'outcome'>;
  published: Counter<'source'>;
  outboxPending: Gauge;
} {
  return {
    consumed: new Counter({
      name: 'messages_consumed_total',
      help: 'Kafka messages handled, by outcome (processed, duplicate, retry-scheduled, dead-lettered)',
      labelNames: ['topic', 'outcome'],
      registers: [registry],
    }),
    published: new Counter({
      name: 'messages_published_total',
      help: 'Envelopes published to Kafka',
      labelNames: ['source'],
      registers: [registry],
    }),
    outboxPending: new Gauge({
      name: 'outbox_pending_messages',
      help: 'Outbox rows not yet published',
      registers: [registry],
      async collect() {
        this.set(await pendingCount().catch(() => -1));
      },
    }),
  };
}

/** The Vault token's lease and time left, read at scrape time; no sample for a token without expiry. */
export function vaultTokenMetrics(
  registry: Registry,
  lease: () => { leaseSeconds: number; expiresInSeconds: number } | undefined,
): void {
  const gauges = [
    [
      'vault_token_lease_seconds',
      'Lease of the current Vault token when it was issued or last renewed',
      'leaseSeconds',
    ],
    [
      'vault_token_expires_in_seconds',
      'Seconds until the current Vault token expires (renewed at two thirds of its lease)',
      'expiresInSeconds',
    ],
  ] as const;
  for (const [name, help, field] of gauges) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const current = lease();
        if (current) this.set(current[field]);
        else this.reset();
      },
    });
  }
}
