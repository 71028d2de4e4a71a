import { randomUUID } from 'node:crypto';
import type { OutboxWriter } from '@cloud-connect/db';
import type { EventRegistry } from '@cloud-connect/kafka';
import { checkEgressTarget, EgressError, type EgressPolicy } from '@cloud-connect/service-kit';
import type { DataSource, EntityManager } from 'typeorm';
import { AuditedUseCase } from '../common/audited-use-case';
import {
  isPhiUnavailable,
  isSekMissing,
  PHI_RETRY_AFTER_SECONDS,
  sekMissingMessage,
  type PhiCipher,
} from '../crypto/phi-cipher';
import { generateApiKey, hashApiKey, keyHint, weakKeyReason } from './api-key';
import {
  createIntegrationInput,
  IntegrationError,
  issuesOf,
  rotateKeyInput,
  siteNumber as siteNumberSchema,
  type CreateIntegrationInput,
  type IntegrationView,
  type RotateKeyInput,
} from './integration';
import { integrationsChanged } from './inbound-key';
import { IntegrationsRepository } from './integrations.repository';

/** What every integration use case needs: the store, the outbox, the key pepper and the cipher. */
export interface IntegrationDeps {
  dataSource: DataSource;
  schema: string;
  outbox: OutboxWriter;
  registry: EventRegistry;
  keyPepper: string;
  cipher: PhiCipher;
  /** Where outbound copies may go (checked at registration and again at every send). */
  egress: EgressPolicy;
  /** Runs after a transaction that wrote to the outbox committed (wakes the relay). */
  afterCommit?: () => void;
}

/** The result of an action that issued an inbound key: the key is in it this once, never again. */
export interface IssuedKey {
  integration: IntegrationView;
  /** Present only when we generated the key: shown once. */
  apiKey?: string;
}

function checkSite(site: string): string {
  const parsed = siteNumberSchema.safeParse(site);
  if (!parsed.success)
    throw new IntegrationError('invalid-integration', 'invalid site number', issuesOf(parsed.error));
  return parsed.data;
}

function checkId(id: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    throw new IntegrationError('integration-not-found', 'no such integration');
  }
  return id.toLowerCase();
}

abstract class IntegrationUseCase extends AuditedUseCase<IntegrationDeps> {
  protected readonly repo: IntegrationsRepository;

  constructor(deps: IntegrationDeps) {
    super(deps);
    this.repo = new IntegrationsRepository(deps.schema);
  }

  /** Every change clears this process's key-lookup cache once it is committed. */
  protected override async transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    const result = await super.transaction(work);
    integrationsChanged();
    return result;
  }

  /** A supplied key is checked for strength; no key means we generate one. */
  protected newKey(supplied: string | undefined): { key: string; origin: 'generated' | 'supplied' } {
    if (supplied === undefined) return { key: generateApiKey(), origin: 'generated' };
    const weak = weakKeyReason(supplied);
    if (weak) throw new IntegrationError('invalid-integration', `key: ${weak}`, [`key: ${weak}`]);
    return { key: supplied, origin: 'supplied' };
  }

  protected async addKey(
    tx: EntityManager,
    site: string,
    integrationId: string,
    key: string,
    origin: 'generated' | 'supplied',
  ): Promise<void> {
    const result = await this.repo.insertKey(tx, site, {
      id: randomUUID(),
      integrationId,
      siteNumber: site,
      keyHash: hashApiKey(this.deps.keyPepper, key),
      keyHint: keyHint(key),
      origin,
    });
    if (result === 'taken') {
      // Saying "taken" tells the admin nothing they did not paste in themselves.
      throw new IntegrationError('invalid-integration', 'key: this key is already in use; use another one', [
        'key: already in use',
      ]);
    }
  }

  protected async reload(tx: EntityManager, site: string, id: string): Promise<IntegrationView> {
    const found = await this.repo.find(tx, site, id);
    if (!found) throw new IntegrationError('integration-not-found', 'no such integration');
    return found;
  }
}

export class CreateIntegration extends IntegrationUseCase {
  /** The outbound key is a site secret: sealed under the site's SEK, so the site needs one first. */
  private async sealOutboundKey(site: string, id: string, outboundKey: string): Promise<Buffer> {
    try {
      return await this.deps.cipher.encrypt(site, id, Buffer.from(outboundKey, 'utf8'));
    } catch (error) {
      if (isSekMissing(error)) {
        throw new IntegrationError(
          'sek-required',
          `an integration with an outbound key cannot be saved yet: ${sekMissingMessage(site)}. ` +
            'The outbound key is encrypted under that key. Nothing was saved; store the SEK, then ' +
            'create the integration again (an integration without an outbound key can be saved now).',
        );
      }
      if (isPhiUnavailable(error)) {
        throw new IntegrationError(
          'encryption-unavailable',
          'the encryption service is unavailable, so the outbound key cannot be encrypted; nothing was saved, retry later',
          [],
          { retryAfterSeconds: PHI_RETRY_AFTER_SECONDS },
        );
      }
      throw error;
    }
  }

  async execute(site: string, input: CreateIntegrationInput, actor: string): Promise<IssuedKey> {
    const siteNumber = checkSite(site);
    const parsed = createIntegrationInput({ egress: this.deps.egress }).safeParse(input);
    if (!parsed.success) {
      const details = issuesOf(parsed.error);
      throw new IntegrationError(
        'invalid-integration',
        `invalid integration: ${details.join('; ')}`,
        details,
      );
    }
    const value = parsed.data;
    if (value.requestUrl !== null) {
      try {
        await checkEgressTarget(value.requestUrl, this.deps.egress);
      } catch (error) {
        if (!(error instanceof EgressError)) throw error;
        const detail = `requestUrl: ${error.message}`;
        throw new IntegrationError('invalid-integration', `invalid integration: ${detail}`, [detail]);
      }
    }
    const { key, origin } = this.newKey(value.key);
    const id = randomUUID();
    const outboundKeyCiphertext =
      value.outboundKey === null ? null : await this.sealOutboundKey(siteNumber, id, value.outboundKey);
    const integration = await this.transaction(async (tx) => {
      const inserted = await this.repo.insert(tx, {
        id,
        siteNumber,
        name: value.name,
        authHeaderName: value.authHeaderName,
        requestUrl: value.requestUrl,
        sendCopies: value.sendCopies,
        outboundKeyCiphertext,
        rateLimitPerSecond: value.rateLimitPerSecond,
        createdBy: actor,
      });
      if (inserted === 'exists') {
        throw new IntegrationError(
          'integration-exists',
          `site ${siteNumber} already has an integration named "${value.name}"`,
        );
      }
      await this.addKey(tx, siteNumber, id, key, origin);
      await this.audit(tx, siteNumber, actor, 'integration.create', `site/${siteNumber}/integration/${id}`);
      return this.reload(tx, siteNumber, id);
    });
    return origin === 'generated' ? { integration, apiKey: key } : { integration };
  }
}

export class ListIntegrations extends IntegrationUseCase {
  execute(site: string): Promise<IntegrationView[]> {
    return this.repo.list(this.deps.dataSource.manager, checkSite(site));
  }
}

export class SetIntegrationEnabled extends IntegrationUseCase {
  async execute(
    site: string,
    integrationId: string,
    enabled: boolean,
    actor: string,
  ): Promise<IntegrationView> {
    const siteNumber = checkSite(site);
    const id = checkId(integrationId);
    return this.transaction(async (tx) => {
      if (!(await this.repo.setEnabled(tx, siteNumber, id, enabled))) {
        throw new IntegrationError('integration-not-found', 'no such integration');
      }
      const action = enabled ? 'integration.enable' : 'integration.disable';
      await this.audit(tx, siteNumber, actor, action, `site/${siteNumber}/integration/${id}`);
      return this.reload(tx, siteNumber, id);
    });
  }
}

/**
 * Issues a new inbound key; the keys active until now keep working for the overlap window, so
 * the sender can switch without a failed post.
 */
export class RotateIntegrationKey extends IntegrationUseCase {
  async execute(
    site: string,
    integrationId: string,
    input: RotateKeyInput,
    actor: string,
  ): Promise<IssuedKey> {
    const siteNumber = checkSite(site);
    const id = checkId(integrationId);
    const parsed = rotateKeyInput.safeParse(input);
    if (!parsed.success) {
      const details = issuesOf(parsed.error);
      throw new IntegrationError('invalid-integration', `invalid rotation: ${details.join('; ')}`, details);
    }
    const { key, origin } = this.newKey(parsed.data.key);
    const integration = await this.transaction(async (tx) => {
      await this.reload(tx, siteNumber, id);
      const until = new Date(Date.now() + parsed.data.overlapSeconds * 1000);
      await this.repo.expireActiveKeys(tx, siteNumber, id, until);
      await this.addKey(tx, siteNumber, id, key, origin);
      await this.audit(
        tx,
        siteNumber,
        actor,
        'integration.rotate-key',
        `site/${siteNumber}/integration/${id}`,
      );
      return this.reload(tx, siteNumber, id);
    });
    return origin === 'generated' ? { integration, apiKey: key } : { integration };
  }
}
