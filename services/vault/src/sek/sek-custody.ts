import { domainErrorClass } from '@cloud-connect/errors';
import { Events } from '@cloud-connect/contracts';
import type { OutboxWriter } from '@cloud-connect/db';
import type { EventRegistry } from '@cloud-connect/kafka';
import { auditEvent } from '@cloud-connect/service-kit';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { SiteEntity } from '../sites/site.entity';
import { SitesRepository } from '../sites/sites.repository';
import { actorOf, type Caller, type RequestContext } from './caller';
import { SekEventsRepository, type SekEventRow } from './sek-events.repository';
import { SekRemovalsRepository, type SekRemoval } from './sek-removals.repository';
import { formatSek, parseSek, SekFormatError } from './sek-format';
import { SekVersionConflictError, type SekVaultStore, VaultUnavailableError } from './sek-vault-store';

export type SekAction = 'store' | 'view' | 'replace' | 'remove' | 'restore' | 'approve-destroy' | 'destroy';

export type SekErrorCode =
  | 'site-not-found'
  | 'sek-not-found'
  | 'sek-exists'
  | 'invalid-sek'
  | 'conflict'
  | 'not-removed'
  | 'two-person-rule'
  | 'destroy-not-allowed-yet';

export class SekError extends domainErrorClass<SekErrorCode>('sek', {
  'invalid-sek': 'invalid',
  'site-not-found': 'not-found',
  'sek-not-found': 'not-found',
  'sek-exists': 'conflict',
  conflict: 'conflict',
  'not-removed': 'conflict',
  'destroy-not-allowed-yet': 'conflict',
  'two-person-rule': 'forbidden',
}) {}

export interface SekView {
  siteNumber: string;
  sek: string;
  version: number;
  storedAt: string;
}

/** What a remove answers: until when the removed SEK can be restored. */
export interface SekRemoved {
  removed: true;
  recoverableUntil: string;
}

/** What a restore answers: the versions readable again. */
export interface SekRestored {
  restored: true;
  versions: number[];
}

/** What the second admin's approval answers: from when the removed versions may be destroyed. */
export interface SekDestroyApproval {
  approved: true;
  destroyableFrom: string;
}

export interface SekDestroyed {
  destroyed: true;
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
  private readonly removals = new SekRemovalsRepository();

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly registry: EventRegistry,
    private readonly vault: SekVaultStore,
    /** How long a removed SEK stays recoverable before it may be destroyed. */
    private readonly recoveryWindowSeconds: number,
  ) {}

  async store(
    site: string,
    caller: Caller,
    ctx: RequestContext,
    sekText: unknown,
  ): Promise<{ version: number }> {
    return this.writeVersion('store', site, caller, ctx, sekText, async (current) => {
      if (current !== null) {
        throw new SekError('sek-exists', `site ${site} already has a SEK; replace it instead`);
      }
      // After a remove the earlier versions still exist (recoverable or destroyed): the new one follows them.
      return this.vault.latestVersion(site);
    });
  }

  async replace(
    site: string,
    caller: Caller,
    ctx: RequestContext,
    sekText: unknown,
  ): Promise<{ version: number }> {
    return this.writeVersion('replace', site, caller, ctx, sekText, (current) => {
      if (current === null) throw new SekError('sek-not-found', `site ${site} has no SEK to replace`);
      return Promise.resolve(current);
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

  /**
   * Soft delete: every version is deleted in Vault but recoverable (`restore`) for the recovery
   * window; meanwhile nothing can be encrypted or decrypted under it. Destroying the versions
   * needs a second admin's approval and, after the window, `destroy`.
   */
  async remove(site: string, caller: Caller, ctx: RequestContext): Promise<SekRemoved> {
    return this.audited('remove', site, caller, ctx, async (tx) => {
      await this.requireSite(tx, site);
      if ((await this.vault.currentVersion(site)) === null) {
        throw new SekError('sek-not-found', `site ${site} has no SEK`);
      }
      const actor = actorOf(caller);
      await this.events.record(tx, site, { kvVersion: null, action: 'removed', actor });
      // A SEK stored after an earlier remove joins that removal (a new window, a new approval).
      const earlier = (await this.removals.find(tx, site))?.versions ?? [];
      const versions = await this.vault.softDeleteAll(site);
      const until = await this.removals.upsert(tx, site, {
        versions: [...new Set([...earlier, ...versions])].sort((a, b) => a - b),
        removedBy: actor,
        windowSeconds: this.recoveryWindowSeconds,
      });
      return { removed: true as const, recoverableUntil: until.toISOString() };
    });
  }

  /** Undoes a remove (any time before the versions are destroyed): everything readable again. */
  async restore(site: string, caller: Caller, ctx: RequestContext): Promise<SekRestored> {
    return this.audited('restore', site, caller, ctx, async (tx) => {
      await this.requireSite(tx, site);
      const removal = await this.requireRemoval(tx, site);
      await this.events.record(tx, site, { kvVersion: null, action: 'restored', actor: actorOf(caller) });
      await this.removals.delete(tx, site);
      await this.vault.undelete(site, removal.versions);
      return { restored: true as const, versions: removal.versions };
    });
  }

  /** The second person of the two-person rule: an admin other than the one who removed it. */
  async approveDestroy(site: string, caller: Caller, ctx: RequestContext): Promise<SekDestroyApproval> {
    return this.audited('approve-destroy', site, caller, ctx, async (tx) => {
      await this.requireSite(tx, site);
      const removal = await this.requireRemoval(tx, site);
      const actor = actorOf(caller);
      if (actor === removal.removedBy) {
        throw new SekError(
          'two-person-rule',
          'the admin who removed the SEK cannot approve its destruction; another admin of the site must',
        );
      }
      await this.removals.approve(tx, site, actor);
      return { approved: true as const, destroyableFrom: removal.recoverableUntil.toISOString() };
    });
  }

  /** Destroys every version for good: only with a second admin's approval and after the window. */
  async destroy(site: string, caller: Caller, ctx: RequestContext): Promise<SekDestroyed> {
    return this.audited('destroy', site, caller, ctx, async (tx) => {
      await this.requireSite(tx, site);
      const removal = await this.requireRemoval(tx, site);
      if (!removal.destroyApprovedBy) {
        throw new SekError(
          'destroy-not-allowed-yet',
          'destroying the SEK needs the approval of a second admin of the site (sek approve-destroy)',
        );
      }
      if (removal.recoverableUntil.getTime() > Date.now()) {
        throw new SekError(
          'destroy-not-allowed-yet',
          `the SEK stays recoverable until ${removal.recoverableUntil.toISOString()}; it can be destroyed after that`,
        );
      }
      await this.events.record(tx, site, { kvVersion: null, action: 'destroyed', actor: actorOf(caller) });
      await this.removals.delete(tx, site);
      await this.vault.destroyVersions(site, removal.versions);
      return { destroyed: true as const };
    });
  }

  private async requireRemoval(tx: EntityManager, site: string): Promise<SekRemoval> {
    const removal = await this.removals.find(tx, site);
    if (!removal) throw new SekError('not-removed', `the SEK of site ${site} is not removed`);
    return removal;
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

  /**
   * Writes a new SEK version (store or replace) after the version that `previous` picks from the
   * current one (or refuses), and records it in the SEK's history.
   */
  private async writeVersion(
    action: 'store' | 'replace',
    site: string,
    caller: Caller,
    ctx: RequestContext,
    sekText: unknown,
    previous: (current: number | null) => Promise<number>,
  ): Promise<{ version: number }> {
    return this.audited(action, site, caller, ctx, async (tx) => {
      const sek = this.parse(sekText);
      await this.requireSite(tx, site);
      const version = await this.write(site, sek, await previous(await this.vault.currentVersion(site)));
      await this.events.record(tx, site, {
        kvVersion: version,
        action: action === 'store' ? 'stored' : 'replaced',
        actor: actorOf(caller),
      });
      return { version };
    });
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
      auditEvent(
        this.registry,
        site,
        {
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
