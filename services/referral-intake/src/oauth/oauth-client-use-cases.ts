import { AuditedUseCase } from '../common/audited-use-case';
import { checkEgressTarget, EgressError, type EgressPolicy } from '@cloud-connect/service-kit';
import type { OutboxWriter } from '@cloud-connect/db';
import type { EventRegistry } from '@cloud-connect/kafka';
import { ARGON2ID_COST } from '@cloud-connect/auth';
import argon2 from 'argon2';
import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import {
  createClientInput,
  issuesOf,
  OAuthClientError,
  rotateClientInput,
  siteNumber as siteNumberSchema,
  siteOfClientId,
  type CreateClientInput,
  type RotateClientInput,
} from './oauth-client';
import { OAuthClientsRepository, type OAuthClientView } from './oauth-clients.repository';

/** Argon2id at the cost every service stores secrets with. */
export const ARGON2_OPTIONS = { type: argon2.argon2id, ...ARGON2ID_COST } as const;

export interface OAuthClientDeps {
  dataSource: DataSource;
  schema: string;
  outbox: OutboxWriter;
  registry: EventRegistry;
  /** Default overlap of a rotation (seconds) during which the previous secret still works. */
  rotationOverlapSeconds: number;
  /** Where a JWK Set URL may point (checked at registration and at every fetch). */
  egress: EgressPolicy;
  afterCommit?: () => void;
}

/** A credential with its secret, which is in this answer once and never again. */
export interface IssuedClient {
  client: OAuthClientView;
  clientSecret: string;
}

function checkSite(site: string): string {
  const parsed = siteNumberSchema.safeParse(site);
  if (!parsed.success)
    throw new OAuthClientError('invalid-client-input', 'invalid site number', issuesOf(parsed.error));
  return parsed.data;
}

function checkClientId(site: string, clientId: string): string {
  if (siteOfClientId(clientId) !== site)
    throw new OAuthClientError('client-not-found', 'no such OAuth client');
  return clientId;
}

abstract class OAuthClientUseCase extends AuditedUseCase<OAuthClientDeps> {
  protected readonly repo: OAuthClientsRepository;

  constructor(deps: OAuthClientDeps) {
    super(deps);
    this.repo = new OAuthClientsRepository(deps.schema);
  }

  protected auditClient(tx: EntityManager, site: string, actor: string, action: string, clientId: string) {
    return this.audit(tx, site, actor, action, `site/${site}/oauth-client/${clientId}`);
  }

  protected async newSecret(
    tx: EntityManager,
    site: string,
    clientId: string,
  ): Promise<{ id: string; secret: string }> {
    const secret = randomBytes(32).toString('base64url');
    const id = randomUUID();
    await this.repo.addSecret(tx, site, clientId, {
      id,
      hash: await argon2.hash(secret, ARGON2_OPTIONS),
      hint: `…${secret.slice(-4)}`,
    });
    return { id, secret };
  }

  protected async reload(tx: EntityManager, site: string, clientId: string): Promise<OAuthClientView> {
    const [client] = await this.repo.list(tx, site, clientId);
    if (!client) throw new OAuthClientError('client-not-found', 'no such OAuth client');
    return client;
  }
}

export class CreateOAuthClient extends OAuthClientUseCase {
  async execute(site: string, input: CreateClientInput, actor: string): Promise<IssuedClient> {
    const siteNumber = checkSite(site);
    const parsed = createClientInput.safeParse(input);
    if (!parsed.success)
      throw new OAuthClientError('invalid-client-input', 'invalid OAuth client', issuesOf(parsed.error));
    const value = parsed.data;
    if (value.jwksUrl) {
      try {
        await checkEgressTarget(value.jwksUrl, this.deps.egress);
      } catch (error) {
        if (!(error instanceof EgressError)) throw error;
        throw new OAuthClientError('invalid-client-input', 'invalid OAuth client', [
          `jwksUrl: ${error.message}`,
        ]);
      }
    }
    const clientId = `${siteNumber}.${randomBytes(16).toString('base64url')}`;
    return this.transaction(async (tx) => {
      const inserted = await this.repo.insert(tx, siteNumber, {
        clientId,
        name: value.name,
        scopes: [...new Set(value.scopes)],
        jwks: value.jwks,
        jwksUrl: value.jwksUrl,
        createdBy: actor,
      });
      if (inserted === 'exists')
        throw new OAuthClientError(
          'client-exists',
          `site ${siteNumber} already has a credential named "${value.name}"`,
        );
      const { secret } = await this.newSecret(tx, siteNumber, clientId);
      await this.auditClient(tx, siteNumber, actor, 'oauth-client.create', clientId);
      return { client: await this.reload(tx, siteNumber, clientId), clientSecret: secret };
    });
  }
}

export class ListOAuthClients extends OAuthClientUseCase {
  execute(site: string): Promise<OAuthClientView[]> {
    return this.repo.list(this.deps.dataSource.manager, checkSite(site));
  }
}

/** Revocation is immediate: token requests check the client on every call. */
export class RevokeOAuthClient extends OAuthClientUseCase {
  async execute(site: string, clientId: string, actor: string): Promise<OAuthClientView> {
    const siteNumber = checkSite(site);
    const id = checkClientId(siteNumber, clientId);
    return this.transaction(async (tx) => {
      if (!(await this.repo.revoke(tx, siteNumber, id))) {
        const existing = await this.reload(tx, siteNumber, id); // throws client-not-found
        return existing; // already revoked: nothing changes, nothing to audit
      }
      await this.auditClient(tx, siteNumber, actor, 'oauth-client.revoke', id);
      return this.reload(tx, siteNumber, id);
    });
  }
}

/** A new secret; the previous ones keep working for the overlap, then expire. */
export class RotateOAuthClientSecret extends OAuthClientUseCase {
  async execute(
    site: string,
    clientId: string,
    input: RotateClientInput,
    actor: string,
  ): Promise<IssuedClient> {
    const siteNumber = checkSite(site);
    const id = checkClientId(siteNumber, clientId);
    const parsed = rotateClientInput.safeParse(input);
    if (!parsed.success)
      throw new OAuthClientError('invalid-client-input', 'invalid rotation', issuesOf(parsed.error));
    const overlap = parsed.data.overlapSeconds ?? this.deps.rotationOverlapSeconds;
    return this.transaction(async (tx) => {
      const current = await this.reload(tx, siteNumber, id);
      if (current.revokedAt) throw new OAuthClientError('client-not-found', 'the OAuth client is revoked');
      const { id: secretId, secret } = await this.newSecret(tx, siteNumber, id);
      await this.repo.expireSecrets(tx, siteNumber, id, overlap, secretId);
      await this.auditClient(tx, siteNumber, actor, 'oauth-client.rotate', id);
      return { client: await this.reload(tx, siteNumber, id), clientSecret: secret };
    });
  }
}
