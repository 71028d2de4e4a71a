import { Events } from '@cloud-connect/contracts';
import type { OutboxWriter } from '@cloud-connect/db';
import type { EventRegistry } from '@cloud-connect/kafka';
import { auditEvent, sealParams } from '@cloud-connect/service-kit';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { AccountRepository } from './account.repository';

/** How long a link works: an invitation a few days, a password reset half an hour. */
export const LINK_TTL_SECONDS = { invite: 72 * 3600, reset: 30 * 60 } as const;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface AccountMailSettings {
  /** The console's public URL: the links in the e-mails lead there. */
  consoleUrl: string;
  /** The services' shared secret: seals the link for the notifier (never in clear on Kafka). */
  sealingSecret: string;
}

/** Audit entries, e-mails through the notifier and one-time links, all written with the change. */
export class AccountOutbox {
  constructor(
    private readonly outbox: OutboxWriter,
    private readonly registry: EventRegistry,
    private readonly repository: AccountRepository,
    private readonly settings: AccountMailSettings,
  ) {}

  /** An audit entry of the site, by an actor from an address. */
  async audit(
    tx: EntityManager,
    siteNumber: string,
    { actor, sourceAddress }: { actor: string; sourceAddress?: string },
    action: string,
    target: string,
  ): Promise<void> {
    await this.outbox.enqueue(
      tx,
      auditEvent(this.registry, siteNumber, { actor, action, target, sourceAddress }),
    );
  }

  async mail(
    tx: EntityManager,
    siteNumber: string,
    locale: 'en' | 'fr',
    template: string,
    recipient: string,
    params: Record<string, string>,
    secretParams?: Record<string, string>,
  ): Promise<void> {
    const notificationId = randomUUID();
    await this.outbox.enqueue(
      tx,
      this.registry.create(Events.notificationRequested, siteNumber, {
        notificationId,
        channel: 'email',
        template,
        locale,
        recipient,
        params,
        ...(secretParams
          ? {
              sealedParams: sealParams(this.settings.sealingSecret, siteNumber, notificationId, secretParams),
            }
          : {}),
      }),
    );
  }

  /** A new one-time link (only its hash is stored); the URL goes into the sealed e-mail params. */
  async link(
    tx: EntityManager,
    userId: string,
    siteNumber: string,
    purpose: 'invite' | 'reset',
    createdBy: string,
  ): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.repository.insertToken(tx, {
      id: randomUUID(),
      userId,
      siteNumber,
      purpose,
      tokenHash: hashToken(token),
      ttlSeconds: LINK_TTL_SECONDS[purpose],
      createdBy,
    });
    return `${this.settings.consoleUrl.replace(/\/+$/, '')}/#/set-password?token=${token}`;
  }

  get consoleUrl(): string {
    return this.settings.consoleUrl;
  }
}
