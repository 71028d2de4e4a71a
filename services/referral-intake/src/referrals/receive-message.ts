import { Events } from '@cloud-connect/contracts';
import type { GroupCommit, OutboxWriter } from '@cloud-connect/db';
import type { EventRegistry } from '@cloud-connect/kafka';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { PhiCipher } from '../crypto/phi-cipher';
import type { LimitOptions } from '../fhir-messages/ereferral-rules';
import { presentedCredential } from '../fhir-messages/fhir-http';
import { mediaTypeRefusal, answeringUnavailable, throttledAnswer } from '../fhir-messages/inbound-answers';
import { validateInbound } from '../fhir-messages/inbound-validation';
import { outcome, responseMessage, simpleOutcome, type FhirAnswer } from '../fhir-messages/operation-outcome';
import { STATUS_EVENTS } from '../fhir-messages/status-change';
import { error, information, type ValidationIssue } from '../fhir-messages/validation-issue';
import { sameHash } from '../integrations/api-key';
import {
  InboundKeyMatcher,
  type KeyThrottleOptions,
  type LookupCacheOptions,
} from '../integrations/inbound-key';
import { sealedPatientOf } from '../status-updates/patient-contact';
import { sealedReferrerOf } from '../status-updates/referrer-contact';
import type { AccessTokens } from '../oauth/access-tokens';
import type { ApplyStatusChange } from '../status-updates/apply-status-change';
import { kindOf } from './message-kinds';
import type { RateLimiter } from './rate-limiter';
import { ReferralsRepository, type StoredReferral } from './referrals.repository';
import { senderLabel, type Sender } from './sender';

/** What identifies the sender of an inbound request: everything but the body. */
export interface InboundCaller {
  /** Request headers, names lower-cased. */
  headers: Record<string, string | string[] | undefined>;
  /** Whether an OAuth bearer token may authenticate (the FHIR messaging endpoints). */
  bearerAllowed: boolean;
  /** The client's address (a trusted proxy's X-Forwarded-For, else the TCP peer). */
  sourceAddress: string;
}

export interface InboundRequest extends InboundCaller {
  contentType: string | undefined;
  body: Buffer | undefined;
}

export interface ReceiveMessageDeps {
  dataSource: DataSource;
  schema: string;
  outbox: OutboxWriter;
  registry: EventRegistry;
  keyPepper: string;
  tokens: AccessTokens;
  cipher: PhiCipher;
  limiter: RateLimiter;
  limits: LimitOptions;
  statusChanges: ApplyStatusChange;
  afterCommit?: () => void;
  /** Concurrent posts share a transaction (group commit); each answer still waits for its commit. */
  commits?: GroupCommit;
  /** The API-key look-up cache (default: none). */
  lookupCache?: LookupCacheOptions;
  /** Failed API-key checks counted per source address and key prefix (default: none). */
  keyThrottle?: KeyThrottleOptions;
}

const UNAUTHORIZED = simpleOutcome('login', 'a valid integration API key is required');

/**
 * The answer to a message the site already holds under its Bundle.id or MessageHeader.id: the
 * original answer when the content is the same, 409 when different content reuses an id.
 */
export function earlierAnswer(earlier: StoredReferral[], hash: Buffer): FhirAnswer | null {
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
 * Every inbound FHIR message, whoever sends it and whatever its kind: authenticate (integration
 * API key, or an OAuth access token on /fhir/) → throttle → media type → validate → admit (the
 * message kind's own checks and the role rule) → encrypt → insert if new (idempotent by Bundle.id,
 * MessageHeader.id and, for new referrals, the echo key) → apply (status change) → outbox, in one
 * transaction; the FHIR answer after the commit. A refused request changes nothing.
 */
export class ReceiveMessage {
  private readonly keys: InboundKeyMatcher;
  private readonly referrals: ReferralsRepository;

  constructor(private readonly deps: ReceiveMessageDeps) {
    this.keys = new InboundKeyMatcher(
      deps.dataSource.manager,
      deps.schema,
      deps.keyPepper,
      deps.lookupCache,
      deps.keyThrottle,
    );
    this.referrals = new ReferralsRepository(deps.schema);
  }

  /**
   * Step 1 alone, from the headers (the route runs it before the body is read): the sender, or
   * the 401/403/429 answer.
   */
  async identify(request: InboundCaller): Promise<Sender | FhirAnswer> {
    return answeringUnavailable<Sender>(() => this.admitSender(request));
  }

  /** The whole exchange; `sender` when step 1 already ran (`identify`) for this request. */
  async execute(request: InboundRequest, sender?: Sender): Promise<FhirAnswer> {
    return answeringUnavailable(async () => {
      const admitted = sender ?? (await this.admitSender(request));
      return 'kind' in admitted ? this.receive(request, admitted) : admitted;
    });
  }

  /** 1. Who is posting, and not too often. */
  private async admitSender(request: InboundCaller): Promise<Sender | FhirAnswer> {
    const sender = await this.authenticate(request);
    if (!('kind' in sender)) return sender;
    const throttled =
      sender.kind === 'integration'
        ? throttledAnswer(this.deps.limiter.take(sender.id, sender.rateLimitPerSecond), 'integration')
        : throttledAnswer(this.deps.limiter.take(`oauth:${sender.id}`, null), 'client');
    return throttled ?? sender;
  }

  private async receive(request: InboundRequest, sender: Sender): Promise<FhirAnswer> {
    // 2. What was posted, and whether this sender may post it.
    const refused = mediaTypeRefusal(request.contentType);
    if (refused) return refused;
    const checked = validateInbound(request.body ?? Buffer.alloc(0), this.deps.limits);
    if (!checked.ok) return { status: 400, body: outcome(checked.issues) };
    const { facts } = checked;
    const kind = kindOf(facts.eventCode);
    if (!kind || !kind.senders.includes(sender.kind)) {
      return {
        status: 422,
        body: outcome([
          error(
            'not-supported',
            'Bundle.entry[0].resource.eventCoding.code',
            `with an access token this endpoint takes status back (${Object.keys(STATUS_EVENTS).join(', ')}); new referrals are posted with an integration's API key`,
          ),
        ]),
      };
    }
    const db = this.deps.dataSource.manager;
    const admitted = await kind.admit(checked, sender, { db, statusChanges: this.deps.statusChanges });
    if (!('publishReceived' in admitted)) return admitted;

    // 3. Store unless the site already holds it (the insert is tried first: a new message costs no
    //    extra round trip), apply, publish; all in one transaction.
    const site = sender.site;
    const messageId = randomUUID();
    const header = checked.bundle.entry?.[0]?.resource;
    const eventCoding = header?.resourceType === 'MessageHeader' ? header.eventCoding : undefined;
    const answerWith = (warnings: ValidationIssue[]) =>
      responseMessage({ messageHeaderId: facts.messageHeaderId, eventCoding }, warnings);
    const ciphertext = await this.deps.cipher.encrypt(
      site,
      messageId,
      Buffer.from(JSON.stringify(checked.bundle), 'utf8'),
    );
    // An appointment message's patient contact, sealed for reminders and notices.
    const patient = admitted.statusChange
      ? await sealedPatientOf(this.deps.cipher, site, checked.bundle, admitted.statusChange, messageId)
      : undefined;
    // The referrer of a declined or booked referral, sealed for their notice.
    const referrer = admitted.statusChange
      ? await sealedReferrerOf(
          { cipher: this.deps.cipher, schema: this.deps.schema, db },
          site,
          admitted.statusChange,
          messageId,
        )
      : undefined;
    const stored = await (this.deps.commits ?? this.deps.dataSource).transaction(async (tx) => {
      let response = answerWith(checked.warnings);
      const row = {
        id: messageId,
        siteNumber: site,
        integrationId: sender.kind === 'integration' ? sender.id : null,
        oauthClientId: sender.kind === 'oauth-client' ? sender.id : null,
        bundleId: facts.bundleId,
        messageHeaderId: facts.messageHeaderId,
        eventCode: facts.eventCode,
        serviceRequestId: admitted.serviceRequestId,
        contentSha256: checked.contentHash,
        bundleCiphertext: ciphertext,
        response,
        warnings: checked.warnings.length,
        echoKey: admitted.echoKey,
      };
      // A new referral and its event in one statement (one round trip inside the shared commit);
      // the event is written only when the insert was (not for a message the site already holds).
      const created =
        admitted.publishReceived && sender.kind === 'integration'
          ? (
              await this.deps.outbox.enqueueIfReturned(
                tx,
                this.referrals.insertIfNewStatement(site, row),
                this.deps.registry.create(Events.referralReceived, site, {
                  referralId: messageId,
                  integrationId: sender.id,
                  bundleId: facts.bundleId,
                  messageHeaderId: facts.messageHeaderId,
                  eventCode: facts.eventCode,
                  receivedAt: new Date().toISOString(),
                }),
              )
            ).length > 0
          : await this.referrals.insertIfNew(tx, site, row);
      if (!created) return null;
      if (admitted.statusChange) {
        const applied = await this.deps.statusChanges.inTransaction(
          tx,
          site,
          admitted.statusChange,
          { messageId, changedBy: senderLabel(sender) },
          patient,
          referrer,
        );
        if (applied === 'stale') {
          // The answer says a newer state won; it is stored in the same transaction.
          const warnings = [
            ...checked.warnings,
            information(
              'stale-status',
              'informational',
              'Bundle.timestamp',
              'a newer status was already recorded for this resource; this message was stored but did not change it',
            ),
          ];
          response = answerWith(warnings);
          await this.referrals.setResponse(tx, site, messageId, response, warnings.length);
        }
      }
      return response;
    });
    if (!stored) {
      // Seen before (or a concurrent post of the same message won the insert).
      const earlier = await this.referrals.findByMessageIds(db, site, facts.bundleId, facts.messageHeaderId);
      const replay = earlierAnswer(earlier, checked.contentHash);
      if (replay) return replay;
      const echoed = admitted.echoKey ? await this.referrals.findByEchoKey(db, site, admitted.echoKey) : null;
      if (echoed) {
        // A copy of a referral the site holds, re-wrapped: answered, not stored again.
        return {
          status: 200,
          body: answerWith([
            information(
              'echoed-referral',
              'duplicate',
              'Bundle.entry[0].resource.focus',
              `this referral (same ServiceRequest identifier) was already received in Bundle/${echoed.bundleId}; it was not stored again`,
            ),
          ]),
        };
      }
      throw new Error('message insert conflicted but no earlier message was found');
    }
    this.deps.afterCommit?.();
    return { status: 200, body: stored };
  }

  /** The sender a request authenticates as, or the 401/403 answer. */
  private async authenticate(request: InboundCaller): Promise<Sender | FhirAnswer> {
    const credential = presentedCredential(request.headers, {
      bearer: request.bearerAllowed ? 'jws' : 'none',
      apiKeyHeaders: [],
    });
    if (credential?.kind === 'bearer') {
      const claims = await this.deps.tokens.verify(credential.token);
      if (!claims) {
        return {
          status: 401,
          body: simpleOutcome('login', 'the access token is invalid or expired'),
          headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
        };
      }
      return { kind: 'oauth-client', site: claims.site, id: claims.clientId, scopes: claims.scopes };
    }
    // An API key counts only in the header its own integration registered.
    const checked = await this.keys.check(request.headers, request.sourceAddress);
    if ('retryAfterSeconds' in checked) {
      return {
        status: 429,
        body: simpleOutcome('throttled', 'too many failed API key checks from this address; retry later'),
        headers: { 'Retry-After': String(checked.retryAfterSeconds) },
      };
    }
    const { match } = checked;
    if (!match) return { status: 401, body: UNAUTHORIZED };
    if (!match.enabled)
      return { status: 403, body: simpleOutcome('forbidden', 'this integration is disabled') };
    return {
      kind: 'integration',
      site: match.siteNumber,
      id: match.integrationId,
      rateLimitPerSecond: match.rateLimitPerSecond,
      receivesCopies: match.sendCopies,
    };
  }
}
