import { isDatabaseUnavailable } from '@cloud-connect/db';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { PhiCipher } from '../crypto/phi-cipher';
import type { AccessTokens } from '../oauth/access-tokens';
import { allows } from '../oauth/scopes';
import type { LimitOptions } from '../referrals/ereferral-rules';
import { validateInbound } from '../referrals/inbound-validation';
import { outcome, responseMessage, simpleOutcome } from '../referrals/operation-outcome';
import type { RateLimiter } from '../referrals/rate-limiter';
import {
  mediaTypeRefusal,
  phiFailureAnswer,
  storeUnavailableAnswer,
  throttledAnswer,
  type InboundAnswer,
} from '../referrals/inbound-answers';
import { earlierAnswer } from '../referrals/receive-referral';
import { ReferralsRepository } from '../referrals/referrals.repository';
import { information } from '../referrals/validation-issue';
import type { ApplyStatusChange } from './apply-status-change';
import { sealedPatientOf } from './patient-contact';
import { STATUS_EVENTS, statusChangeOf } from './status-change';

export interface StatusUpdateRequest {
  /** The bearer access token from `Authorization`. */
  accessToken: string;
  contentType: string | undefined;
  body: Buffer | undefined;
}

export interface ReceiveStatusUpdateDeps {
  dataSource: DataSource;
  schema: string;
  tokens: AccessTokens;
  cipher: PhiCipher;
  statusChanges: ApplyStatusChange;
  limiter: RateLimiter;
  limits: LimitOptions;
  afterCommit?: () => void;
}

/**
 * Status back from an integrator (DESIGN.md flow 2): a `notify-update-status` or
 * `notify-*-appointment` message posted to `$process-message` with an OAuth access token. The
 * token's site and scopes decide; the message must be about a referral of that site. Stored
 * like every inbound message (encrypted, idempotent by Bundle.id / MessageHeader.id), and in the
 * same transaction it changes the referral's state and publishes the event. A rejected request
 * changes nothing.
 */
export class ReceiveStatusUpdate {
  private readonly referrals: ReferralsRepository;

  constructor(private readonly deps: ReceiveStatusUpdateDeps) {
    this.referrals = new ReferralsRepository(deps.schema);
  }

  async execute(request: StatusUpdateRequest): Promise<InboundAnswer> {
    try {
      return await this.receive(request);
    } catch (error) {
      if (isDatabaseUnavailable(error)) return storeUnavailableAnswer();
      const phiFailure = phiFailureAnswer(error);
      if (phiFailure) return phiFailure;
      throw error;
    }
  }

  private async receive(request: StatusUpdateRequest): Promise<InboundAnswer> {
    const claims = await this.deps.tokens.verify(request.accessToken);
    if (!claims) {
      return {
        status: 401,
        body: simpleOutcome('login', 'the access token is invalid or expired'),
        headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      };
    }
    const throttled = throttledAnswer(this.deps.limiter.take(`oauth:${claims.clientId}`, null), 'client');
    if (throttled) return throttled;
    const refused = mediaTypeRefusal(request.contentType);
    if (refused) return refused;
    const checked = validateInbound(request.body ?? Buffer.alloc(0), this.deps.limits);
    if (!checked.ok) return { status: 400, body: outcome(checked.issues) };
    const { facts } = checked;
    if (!Object.hasOwn(STATUS_EVENTS, facts.eventCode)) {
      return {
        status: 422,
        body: outcome([
          {
            severity: 'error',
            code: 'not-supported',
            expression: 'Bundle.entry[0].resource.eventCoding.code',
            diagnostics: `with an access token this endpoint takes status back (${Object.keys(STATUS_EVENTS).join(', ')}); new referrals are posted with an integration's API key`,
          },
        ]),
      };
    }
    const found = statusChangeOf(checked.bundle, facts.eventCode);
    if (!found) throw new Error('unreachable: status events always yield a change or issues');
    if ('issues' in found) return { status: 422, body: outcome(found.issues) };
    const change = found.change;
    // The scope on the resource the message changes: the Appointment, the Task, or the ServiceRequest.
    const scopeResource =
      change.kind === 'appointment'
        ? 'Appointment'
        : change.taskStatus !== undefined
          ? 'Task'
          : 'ServiceRequest';
    const permission = facts.eventCode === 'notify-add-appointment' ? 'c' : 'u';
    if (!allows(claims.scopes, scopeResource, permission)) {
      return {
        status: 403,
        body: simpleOutcome(
          'forbidden',
          `the access token lacks the scope system/${scopeResource}.${permission} (or .write)`,
        ),
      };
    }

    const site = claims.site;
    const db = this.deps.dataSource.manager;
    const serviceRequestId = change.serviceRequestId;
    if (serviceRequestId === null) {
      return {
        status: 422,
        body: outcome([
          {
            severity: 'error',
            code: 'business-rule',
            expression: 'Bundle.entry.resource.basedOn',
            diagnostics: 'the appointment must be basedOn the referral (a ServiceRequest) it books',
          },
        ]),
      };
    }
    // Another site's referral and no referral at all answer alike: nothing about other sites leaks.
    if (!(await this.deps.statusChanges.referralExists(db, site, serviceRequestId))) {
      return {
        status: 422,
        body: outcome([
          {
            severity: 'error',
            code: 'not-found',
            expression: 'Bundle.entry.resource',
            diagnostics: `ServiceRequest/${serviceRequestId} is not a referral of this site`,
          },
        ]),
      };
    }

    const messageId = randomUUID();
    const header = (checked.bundle['entry'] as { resource: { eventCoding: unknown } }[])[0]?.resource;
    const ciphertext = await this.deps.cipher.encrypt(
      site,
      messageId,
      Buffer.from(JSON.stringify(checked.bundle), 'utf8'),
    );
    // The patient's contact details for reminders and notices travel sealed for the site.
    const patient = await sealedPatientOf(this.deps.cipher, site, checked.bundle, change, messageId);
    const stored = await this.deps.dataSource.transaction(async (tx) => {
      const warnings = [...checked.warnings];
      // The answer is stored after the state is applied, so it can say when a newer state won.
      const created = await this.referrals.insertIfNew(tx, site, {
        id: messageId,
        siteNumber: site,
        integrationId: null,
        oauthClientId: claims.clientId,
        bundleId: facts.bundleId,
        messageHeaderId: facts.messageHeaderId,
        eventCode: facts.eventCode,
        serviceRequestId,
        contentSha256: checked.contentHash,
        bundleCiphertext: ciphertext,
        response: {},
        warnings: warnings.length,
      });
      if (!created) return null;
      const applied = await this.deps.statusChanges.inTransaction(
        tx,
        site,
        change,
        {
          messageId,
          changedBy: `oauth-client:${claims.clientId}`,
        },
        patient,
      );
      if (applied === 'stale') {
        warnings.push(
          information(
            'informational',
            'Bundle.timestamp',
            'a newer status was already recorded for this resource; this message was stored but did not change it',
          ),
        );
      }
      const response = responseMessage(
        { messageHeaderId: facts.messageHeaderId, eventCoding: header?.eventCoding },
        warnings,
      );
      await this.referrals.setResponse(tx, site, messageId, response, warnings.length);
      return response;
    });
    if (!stored) {
      const earlier = await this.referrals.findByMessageIds(db, site, facts.bundleId, facts.messageHeaderId);
      const answer = earlierAnswer(earlier, checked.contentHash);
      if (answer) return answer;
      throw new Error('status message insert conflicted but no earlier message was found');
    }
    this.deps.afterCommit?.();
    return { status: 200, body: stored };
  }
}
