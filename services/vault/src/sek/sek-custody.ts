import { DomainError, type ErrorKind } from '@cloud-connect/errors';
import { Events } from '@cloud-connect/contracts';
import type { OutboxWriter } from '@cloud-connect/db';
import type { EventRegistry } from '@cloud-connect/kafka';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { SiteEntity } from '../sites/site.entity';
import { SitesRepository } from '../sites/sites.repository';
import { actorOf, type Caller, type RequestContext } from './caller';
import { SekEventsRepository, type SekEventRow } from './sek-events.repository';
import { formatSek, parseSek, SekFormatError } from './sek-format';
import { SekVersionConflictError, type SekVaultStore, VaultUnavailableError } from './sek-vault-store';

export type SekAction = 'store' | 'view' | 'replace' | 'remove';

export type SekErrorCode = 'site-not-found' | 'sek-not-found' | 'sek-exists' | 'invalid-sek' | 'conflict';

export class SekError extends DomainError<SekErrorCode> {
  readonly domain = 'sek';

  get kind(): ErrorKind {
    switch (this.code) {
      case 'invalid-sek':
        return 'invalid';
      case 'site-not-found':
      case 'sek-not-found':
        return 'not-found';
      case 'sek-exists':
      case 'conflict':
        return 'conflict';
    }
  }
}

export interface SekView {
  siteNumber: string;
  sek: string;
  version: number;
  storedAt: string;
}

/** Audit target of a site's SEK. */
function target(site: string): string {
  return `site/${site}/sek`;
}

/**
 * SEK custody: store, view, replace and remove a site's SEK in Vault. Every attempt is audited
 * (allowed, denied, failed; human or service) and each human attempt alerts the site's clinical
 * administrator. The audit entry, the alert and the version record commit in one transaction;
 * the Vault write happens inside that transaction, before commit, so a Vault failure rolls all
 * of it back (then only the `failed` audit entry is written), and a view discloses the key only
 * once its audit entry and alert are durable.
 */
export class SekCustody {
  private readonly sites = new SitesRepository();
  private readonly events = new SekEventsRepository();

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly registry: EventRegistry,
    private readonly vault: SekVaultStore,
  ) {}

  async store(
    site: string,
    caller: Caller,
    ctx: RequestContext,
    sekText: unknown,
  ): Promise<{ version: number }> {
    return this.audited('store', site, caller, ctx, async (tx) => {
      const sek = this.parse(sekText);
      await this.requireSite(tx, site);
      if ((await this.vault.currentVersion(site)) !== null) {
        throw new SekError('sek-exists', `site ${site} already has a SEK; replace it instead`);
      }
      const version = await this.write(site, sek, 0);
      await this.events.record(tx, site, { kvVersion: version, action: 'stored', actor: actorOf(caller) });
      return { version };
    });
  }

  async replace(
    site: string,
    caller: Caller,
    ctx: RequestContext,
    sekText: unknown,
  ): Promise<{ version: number }> {
    return this.audited('replace', site, caller, ctx, async (tx) => {
      const sek = this.parse(sekText);
      await this.requireSite(tx, site);
      const current = await this.vault.currentVersion(site);
      if (current === null) throw new SekError('sek-not-found', `site ${site} has no SEK to replace`);
      const version = await this.write(site, sek, current);
      await this.events.record(tx, site, { kvVersion: version, action: 'replaced', actor: actorOf(caller) });
      return { version };
    });
  }

  async view(site: string, caller: Caller, ctx: RequestContext): Promise<SekView> {
    return this.audited('view', site, caller, ctx, async (tx) => {
      await this.requireSite(tx, site);
      const stored = await this.vault.read(site);
      if (!stored) throw new SekError('sek-not-found', `site ${site} has no SEK`);
      return { siteNumber: site, sek: stored.sek, version: stored.version, storedAt: stored.createdTime };
    });
  }

  async remove(site: string, caller: Caller, ctx: RequestContext): Promise<{ removed: true }> {
    return this.audited('remove', site, caller, ctx, async (tx) => {
      await this.requireSite(tx, site);
      if ((await this.vault.currentVersion(site)) === null) {
        throw new SekError('sek-not-found', `site ${site} has no SEK`);
      }
      await this.events.record(tx, site, { kvVersion: null, action: 'removed', actor: actorOf(caller) });
      await this.vault.removeAll(site);
      return { removed: true as const };
    });
  }

  /** Which KV version each store/replace created, by whom and when (never the key). */
  history(site: string): Promise<SekEventRow[]> {
    return this.events.list(this.dataSource.manager, site);
  }

  /** Denied attempts (the auth layer refused the caller) are audited and, for humans, alerted. */
  async recordDenied(site: string, action: SekAction, caller: Caller, ctx: RequestContext): Promise<void> {
    if (!/^[1-9][0-9]{0,9}$/.test(site)) return;
    await this.dataSource.transaction(async (tx) => {
      await this.enqueueAudit(tx, site, action, caller, ctx, 'denied');
    });
  }

  private parse(text: unknown): string {
    try {
      return formatSek(parseSek(text));
    } catch (error) {
      if (error instanceof SekFormatError) throw new SekError('invalid-sek', error.message);
      throw error;
    }
  }

  private async write(site: string, sek: string, expected: number): Promise<number> {
    try {
      return await this.vault.write(site, sek, expected);
    } catch (error) {
      if (error instanceof SekVersionConflictError) {
        throw new SekError('conflict', `the SEK of site ${site} changed meanwhile; try again`);
      }
      throw error;
    }
  }

  private async requireSite(tx: EntityManager, site: string): Promise<SiteEntity> {
    const found = await this.sites.findByNumber(tx, site);
    if (!found) throw new SekError('site-not-found', `site ${site} does not exist`);
    return found;
  }

  private async audited<T>(
    action: SekAction,
    site: string,
    caller: Caller,
    ctx: RequestContext,
    work: (tx: EntityManager) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.dataSource.transaction(async (tx) => {
        // Audit and alert first, the Vault effect last: nothing after it can fail but the commit.
        await this.enqueueAudit(tx, site, action, caller, ctx, 'allowed');
        return work(tx);
      });
    } catch (error) {
      const outcome = error instanceof SekError && error.code === 'site-not-found' ? null : 'failed';
      if (outcome) {
        // Best effort: if the database itself is down this fails too, and the caller sees 503.
        await this.dataSource
          .transaction((tx) => this.enqueueAudit(tx, site, action, caller, ctx, outcome, reasonOf(error)))
          .catch(() => undefined);
      }
      throw error;
    }
  }

  private async enqueueAudit(
    tx: EntityManager,
    site: string,
    action: SekAction,
    caller: Caller,
    ctx: RequestContext,
    outcome: 'allowed' | 'denied' | 'failed',
    reason?: string,
  ): Promise<void> {
    const actor = actorOf(caller);
    const occurredAt = new Date();
    await this.outbox.enqueue(
      tx,
      this.registry.create(
        Events.auditRecorded,
        site,
        {
          auditId: randomUUID(),
          actor,
          action: `sek.${action}`,
          target: reason ? `${target(site)} (${reason})` : target(site),
          outcome,
          sourceAddress: ctx.sourceAddress,
        },
        { occurredAt },
      ),
    );
    if (caller.kind !== 'admin') return;
    const siteRow = await this.sites.findByNumber(tx, site);
    if (!siteRow) return;
    await this.outbox.enqueue(
      tx,
      this.registry.create(Events.notificationRequested, site, {
        notificationId: randomUUID(),
        channel: 'email',
        template: 'sek.accessed',
        locale: siteRow.locale,
        recipient: siteRow.clinicalAdminEmail ?? siteRow.adminEmail,
        params: {
          siteNumber: site,
          siteName: siteRow.name,
          actor: caller.email,
          action,
          outcome,
          at: occurredAt.toISOString(),
          from: ctx.sourceAddress,
        },
      }),
    );
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof SekError) return error.code;
  if (error instanceof VaultUnavailableError) return `vault-${error.reason}`;
  return 'error';
}
