import { Events } from '@cloud-connect/contracts';
import { isDatabaseUnavailable, type OutboxWriter } from '@cloud-connect/db';
import type { EventRegistry } from '@cloud-connect/kafka';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { ApplyStatusChange } from '../status-updates/apply-status-change';
import { statusChangeOf } from '../status-updates/status-change';
import type { PhiCipher } from '../crypto/phi-cipher';
import { sameHash } from '../integrations/api-key';
import { InboundKeyMatcher } from '../integrations/inbound-key';
import type { LimitOptions } from './ereferral-rules';
import { validateInbound } from './inbound-validation';
import {
  mediaTypeRefusal,
  phiFailureAnswer,
  storeUnavailableAnswer,
  throttledAnswer,
  type InboundAnswer,
} from './inbound-answers';
import { outcome, responseMessage, simpleOutcome } from './operation-outcome';
import type { RateLimiter } from './rate-limiter';
import { ReferralsRepository, type StoredReferral } from './referrals.repository';

export interface InboundRequest {
  /** Request headers, names lower-cased. */
  headers: Record<string, string | string[] | undefined>;
  contentType: string | undefined;
  body: Buffer | undefined;
}

export type { InboundAnswer };

export interface ReceiveReferralDeps {
  dataSource: DataSource;
  schema: string;
  outbox: OutboxWriter;
  registry: EventRegistry;
  keyPepper: string;
  cipher: PhiCipher;
  limiter: RateLimiter;
  limits: LimitOptions;
  afterCommit?: () => void;
  /** Status-back messages (notify-update-status, notify-*-appointment) about a referral the site holds also change its state. */
  statusChanges?: ApplyStatusChange;
}

const UNAUTHORIZED = simpleOutcome('login', 'a valid integration API key is required');

/** Postgres unreachable, restarting, or out of connections: the client should retry later (503). */
export const isStoreUnavailable = isDatabaseUnavailable;

/**
 * The answer to a message the site already holds under its Bundle.id or MessageHeader.id: the
 * original answer when the content is the same, 409 when different content reuses an id.
 */
export function earlierAnswer(earlier: StoredReferral[], hash: Buffer): InboundAnswer | null {
  if (earlier.length === 0) return null;
  const same = earlier.find((e) => sameHash(e.contentSha256, hash));
  if (same && earlier.length === 1) return { status: 200, body: same.response };
  return {
    status: 409,
    body: simpleOutcome(
      'duplicate',
      'a different message was already received under this Bundle.id or MessageHeader.id; send changes as a new message',
    ),
  };
}

/**
 * The inbound eReferral path: API key → integration → site, rate limit, media type, validation,
 * idempotent durable store (bundle encrypted) with `referral.received` in the same transaction,
 * and the FHIR answer. A rejected request changes nothing.
 */
export class ReceiveReferral {
  private readonly keys: InboundKeyMatcher;
  private readonly referrals: ReferralsRepository;

  constructor(private readonly deps: ReceiveReferralDeps) {
    this.keys = new InboundKeyMatcher(deps.dataSource.manager, deps.schema, deps.keyPepper);
    this.referrals = new ReferralsRepository(deps.schema);
  }

  async execute(request: InboundRequest): Promise<InboundAnswer> {
    try {
      return await this.receive(request);
    } catch (error) {
      if (isStoreUnavailable(error)) return storeUnavailableAnswer();
      // Nothing was stored (the bundle is encrypted before the transaction).
      const phiFailure = phiFailureAnswer(error);
      if (phiFailure) return phiFailure;
      throw error;
    }
  }

  private async receive(request: InboundRequest): Promise<InboundAnswer> {
    // 1. Who is posting: the key picks the integration, the integration picks the site.
    const match = await this.keys.match(request.headers);
    if (!match) return { status: 401, body: UNAUTHORIZED };
    if (!match.enabled)
      return { status: 403, body: simpleOutcome('forbidden', 'this integration is disabled') };
    const throttled = throttledAnswer(
      this.deps.limiter.take(match.integrationId, match.rateLimitPerSecond),
      'integration',
    );
    if (throttled) return throttled;

    // 2. What was posted.
    const refused = mediaTypeRefusal(request.contentType);
    if (refused) return refused;
    const checked = validateInbound(request.body ?? Buffer.alloc(0), this.deps.limits);
    if (!checked.ok) return { status: 400, body: outcome(checked.issues) };
    const { facts } = checked;
    const site = match.siteNumber;
    const header = (checked.bundle['entry'] as { resource: { eventCoding: unknown } }[])[0]?.resource;

    // 3. Store, unless the site already holds this Bundle id or MessageHeader id (then: same
    //    content → the original answer; changed content under the same id → 409). The insert is
    //    tried first: a new message costs no extra round trip.
    const referralId = randomUUID();
    const response = responseMessage(
      { messageHeaderId: facts.messageHeaderId, eventCoding: header?.eventCoding },
      checked.warnings,
    );
    const ciphertext = await this.deps.cipher.encrypt(
      site,
      referralId,
      Buffer.from(JSON.stringify(checked.bundle), 'utf8'),
    );
    const inserted = await this.deps.dataSource.transaction(async (tx) => {
      const created = await this.referrals.insertIfNew(tx, site, {
        id: referralId,
        siteNumber: site,
        integrationId: match.integrationId,
        bundleId: facts.bundleId,
        messageHeaderId: facts.messageHeaderId,
        eventCode: facts.eventCode,
        serviceRequestId: facts.serviceRequestId,
        contentSha256: checked.contentHash,
        bundleCiphertext: ciphertext,
        response,
        warnings: checked.warnings.length,
      });
      if (!created) return false;
      await this.applyStatusBack(tx, site, checked.bundle, facts.eventCode, referralId, match.integrationId);
      await this.deps.outbox.enqueue(
        tx,
        this.deps.registry.create(Events.referralReceived, site, {
          referralId,
          integrationId: match.integrationId,
          bundleId: facts.bundleId,
          messageHeaderId: facts.messageHeaderId,
          eventCode: facts.eventCode,
          receivedAt: new Date().toISOString(),
        }),
      );
      return true;
    });
    if (!inserted) {
      // Seen before (or a concurrent post of the same message won the insert).
      const raced = await this.replayOf(site, facts.bundleId, facts.messageHeaderId, checked.contentHash);
      if (raced) return raced;
      throw new Error('referral insert conflicted but no earlier referral was found');
    }
    this.deps.afterCommit?.();
    return { status: 200, body: response };
  }

  /** A status message from an integration applies when it is about a referral this site holds. */
  private async applyStatusBack(
    tx: EntityManager,
    site: string,
    bundle: Record<string, unknown>,
    eventCode: string,
    messageId: string,
    integrationId: string,
  ): Promise<void> {
    const statusChanges = this.deps.statusChanges;
    const found = statusChanges ? statusChangeOf(bundle, eventCode) : null;
    if (!statusChanges || !found || !('change' in found)) return;
    const serviceRequestId = found.change.serviceRequestId;
    if (serviceRequestId === null || !(await statusChanges.referralExists(tx, site, serviceRequestId)))
      return;
    await statusChanges.inTransaction(tx, site, found.change, {
      messageId,
      changedBy: `integration:${integrationId}`,
    });
  }

  private async replayOf(
    site: string,
    bundleId: string,
    messageHeaderId: string,
    hash: Buffer,
  ): Promise<InboundAnswer | null> {
    const earlier = await this.referrals.findByMessageIds(
      this.deps.dataSource.manager,
      site,
      bundleId,
      messageHeaderId,
    );
    return earlierAnswer(earlier, hash);
  }
}
