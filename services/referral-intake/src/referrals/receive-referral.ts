import { Events } from '@cloud-connect/contracts';
import { isDatabaseUnavailable, type OutboxWriter } from '@cloud-connect/db';
import type { EventRegistry } from '@cloud-connect/kafka';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import {
  isPhiUnavailable,
  isSekMissing,
  PHI_RETRY_AFTER_SECONDS,
  sekMissingMessage,
  type PhiCipher,
} from '../crypto/phi-cipher';
import { hashApiKey, sameHash } from '../integrations/api-key';
import { DEFAULT_AUTH_HEADER } from '../integrations/integration';
import { IntegrationsRepository } from '../integrations/integrations.repository';
import type { LimitOptions } from './ereferral-rules';
import { validateInbound } from './inbound-validation';
import { outcome, responseMessage, simpleOutcome } from './operation-outcome';
import type { RateLimiter } from './rate-limiter';
import { ReferralsRepository } from './referrals.repository';

export interface InboundRequest {
  /** Request headers, names lower-cased. */
  headers: Record<string, string | string[] | undefined>;
  contentType: string | undefined;
  body: Buffer | undefined;
}

export interface InboundAnswer {
  status: number;
  body: unknown;
  retryAfterSeconds?: number;
}

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
}

const ACCEPTED_TYPES = new Set(['application/fhir+json', 'application/json']);
const UNAUTHORIZED = simpleOutcome('login', 'a valid integration API key is required');
const HEADER_NAMES_TTL_MS = 2000;
const STORE_RETRY_AFTER_SECONDS = 5;
/** The receiving site has no SEK yet: a person must act there, so ask for a slow retry. */
const SEK_MISSING_RETRY_AFTER_SECONDS = 300;

/** Postgres unreachable, restarting, or out of connections: the client should retry later (503). */
export const isStoreUnavailable = isDatabaseUnavailable;

/**
 * The inbound eReferral path: API key → integration → site, rate limit, media type, validation,
 * idempotent durable store (bundle encrypted) with `referral.received` in the same transaction,
 * and the FHIR answer. A rejected request changes nothing.
 */
export class ReceiveReferral {
  private readonly integrations: IntegrationsRepository;
  private readonly referrals: ReferralsRepository;
  private headerNames: { names: string[]; at: number } = {
    names: [DEFAULT_AUTH_HEADER.toLowerCase()],
    at: 0,
  };

  constructor(private readonly deps: ReceiveReferralDeps) {
    this.integrations = new IntegrationsRepository(deps.schema);
    this.referrals = new ReferralsRepository(deps.schema);
  }

  async execute(request: InboundRequest): Promise<InboundAnswer> {
    try {
      return await this.receive(request);
    } catch (error) {
      if (isStoreUnavailable(error)) {
        return {
          status: 503,
          body: simpleOutcome('transient', 'the referral store is unavailable; retry later', 'error'),
          retryAfterSeconds: STORE_RETRY_AFTER_SECONDS,
        };
      }
      // Nothing was stored in either case (the bundle is encrypted before the transaction).
      if (isSekMissing(error)) {
        return {
          status: 503,
          body: simpleOutcome(
            'transient',
            `${sekMissingMessage(error.site ?? 'this site')}; nothing was stored, retry later`,
            'error',
          ),
          retryAfterSeconds: SEK_MISSING_RETRY_AFTER_SECONDS,
        };
      }
      if (isPhiUnavailable(error)) {
        return {
          status: 503,
          body: simpleOutcome(
            'transient',
            'the encryption service is unavailable; nothing was stored, retry later',
            'error',
          ),
          retryAfterSeconds: PHI_RETRY_AFTER_SECONDS,
        };
      }
      throw error;
    }
  }

  private async receive(request: InboundRequest): Promise<InboundAnswer> {
    // 1. Who is posting: the key picks the integration, the integration picks the site.
    const presented = await this.presentedKey(request.headers);
    if (!presented) return { status: 401, body: UNAUTHORIZED };
    const hash = hashApiKey(this.deps.keyPepper, presented.key);
    const match = await this.integrations.findByKeyHash(this.deps.dataSource.manager, hash);
    if (!match || !sameHash(match.keyHash, hash)) return { status: 401, body: UNAUTHORIZED };
    if (!match.enabled)
      return { status: 403, body: simpleOutcome('forbidden', 'this integration is disabled') };
    const wait = this.deps.limiter.take(match.integrationId, match.rateLimitPerSecond);
    if (wait > 0) {
      return {
        status: 429,
        body: simpleOutcome('throttled', 'too many requests for this integration'),
        retryAfterSeconds: wait,
      };
    }

    // 2. What was posted.
    const mediaType = request.contentType?.split(';')[0]?.trim().toLowerCase();
    if (!mediaType || !ACCEPTED_TYPES.has(mediaType)) {
      return {
        status: 415,
        body: simpleOutcome('not-supported', 'send application/fhir+json (or application/json)'),
      };
    }
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

  /** The key from the default header, or from any header name an integration registered. */
  private async presentedKey(
    headers: InboundRequest['headers'],
  ): Promise<{ key: string; header: string } | null> {
    const names = await this.knownHeaderNames();
    for (const name of names) {
      const value = headers[name];
      const key = Array.isArray(value) ? value[0] : value;
      if (typeof key === 'string' && key.length > 0 && key.length <= 1024) return { key, header: name };
    }
    return null;
  }

  private async knownHeaderNames(): Promise<string[]> {
    if (Date.now() - this.headerNames.at < HEADER_NAMES_TTL_MS) return this.headerNames.names;
    const registered = await this.integrations.headerNames(this.deps.dataSource.manager);
    const names = new Set([DEFAULT_AUTH_HEADER.toLowerCase(), ...registered.map((n) => n.toLowerCase())]);
    this.headerNames = { names: [...names], at: Date.now() };
    return this.headerNames.names;
  }
}
