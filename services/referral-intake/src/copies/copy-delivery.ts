import { Events } from '@cloud-connect/contracts';
import type { Envelope, RetryPolicy } from '@cloud-connect/kafka';
import type { Logger } from '@cloud-connect/observability';
import { EgressError, statusCategory, type EgressClient } from '@cloud-connect/service-kit';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { PhiCipher } from '../crypto/phi-cipher';
import { IntegrationsRepository } from '../integrations/integrations.repository';
import { CopyDeliveriesRepository, type ClaimedDelivery } from '../integrations/copy-deliveries.repository';

export interface CopyDeliveryDeps {
  dataSource: DataSource;
  schema: string;
  cipher: PhiCipher;
  retry: RetryPolicy;
  timeoutMs: number;
  logger: Logger;
  /** Copies go out only through it (https, public addresses, no redirects, capped answer). */
  egress: EgressClient;
  maxResponseBytes: number;
}

/** Whether an HTTP answer is worth retrying: network errors, 5xx and 429 are; other 4xx are not. */
export function isRetryable(status: number | null): boolean {
  return status === null || status === 429 || status >= 500;
}

/** Failures of the endpoint's configuration (or an attack), not of the network: never retried. */
const FINAL_EGRESS = new Set([
  'invalid-url',
  'scheme',
  'forbidden-address',
  'redirect',
  'too-large',
  'invalid-header',
]);

/**
 * `referral.received` → one pending copy per integration of the site that asked for copies
 * (written in the consumer's transaction, so a redelivered event adds nothing).
 */
export class ScheduleCopies {
  private readonly integrations: IntegrationsRepository;
  private readonly deliveries: CopyDeliveriesRepository;

  constructor(schema: string) {
    this.integrations = new IntegrationsRepository(schema);
    this.deliveries = new CopyDeliveriesRepository(schema);
  }

  async execute(envelope: Envelope, tx: EntityManager): Promise<number> {
    if (envelope.type !== Events.referralReceived.type) return 0;
    const event = Events.referralReceived.schema.parse(envelope.payload);
    const targets = await this.integrations.copyTargets(tx, envelope.siteId, event.integrationId);
    for (const integrationId of targets) {
      await this.deliveries.enqueue(tx, envelope.siteId, event.referralId, integrationId, randomUUID());
    }
    return targets.length;
  }
}

/**
 * Delivers due copies: POSTs the stored bundle (decrypted) to the integration's request URL with
 * its header and outbound key; records the outcome; schedules a retry with backoff and jitter, or
 * dead-letters after the last attempt or on a 4xx that is not 429. A delivery is claimed under
 * a lease; a worker that dies mid-POST leaves it to be retried after the lease (at-least-once on
 * the wire; receivers dedupe on the Bundle id, which copies keep).
 */
export class DeliverCopies {
  private readonly integrations: IntegrationsRepository;
  private readonly deliveries: CopyDeliveriesRepository;

  constructor(private readonly deps: CopyDeliveryDeps) {
    this.integrations = new IntegrationsRepository(deps.schema);
    this.deliveries = new CopyDeliveriesRepository(deps.schema);
  }

  /** One pass: claims up to `limit` due copies and delivers them concurrently. Returns how many. */
  async runOnce(limit = 20): Promise<number> {
    const claimed = await this.deliveries.claimDue(
      this.deps.dataSource.manager,
      limit,
      this.deps.timeoutMs * 3,
    );
    await Promise.all(claimed.map((d) => this.deliver(d)));
    return claimed.length;
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    const db = this.deps.dataSource.manager;
    let status: number | null = null;
    let failure: string;
    let final = false;
    try {
      const target = await this.integrations.copyTarget(db, delivery.siteNumber, delivery.integrationId);
      const sealed = await this.deliveries.bundleCiphertext(db, delivery.siteNumber, delivery.referralId);
      if (!target || !sealed) {
        await this.deliveries.markFailed(db, delivery.siteNumber, delivery.id, {
          status: null,
          error: 'the integration no longer has a request URL and key, or the referral is gone',
          retryInMs: null,
        });
        return;
      }
      const bundle = await this.deps.cipher.decrypt(delivery.siteNumber, delivery.referralId, sealed);
      const key = await this.deps.cipher.decrypt(
        delivery.siteNumber,
        target.id,
        target.outboundKeyCiphertext,
      );
      const response = await this.deps.egress.request(target.requestUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/fhir+json', [target.authHeaderName]: key.toString('utf8') },
        body: bundle,
        timeoutMs: this.deps.timeoutMs,
        maxResponseBytes: this.deps.maxResponseBytes,
      });
      status = response.status;
      if (status >= 200 && status < 300) {
        await this.deliveries.markDelivered(db, delivery.siteNumber, delivery.id, status);
        return;
      }
      failure = statusCategory(status);
    } catch (error) {
      // Categories only (timeout, refused, tls, redirect, …): never a raw network code or message.
      if (error instanceof EgressError) {
        failure = error.category;
        final = FINAL_EGRESS.has(error.category);
      } else failure = 'error';
    }
    const retry = !final && isRetryable(status) && delivery.attempts < this.deps.retry.maxAttempts;
    await this.deliveries.markFailed(db, delivery.siteNumber, delivery.id, {
      status,
      error: failure,
      retryInMs: retry ? this.deps.retry.delayMs(delivery.attempts) : null,
    });
    this.deps.logger.warn(
      {
        deliveryId: delivery.id,
        integrationId: delivery.integrationId,
        attempt: delivery.attempts,
        status,
        failure,
        retry,
      },
      retry ? 'copy delivery failed; retry scheduled' : 'copy delivery dead-lettered',
    );
  }
}
