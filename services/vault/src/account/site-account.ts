import { domainErrorClass } from '@cloud-connect/errors';
import { Events } from '@cloud-connect/contracts';
import type { OutboxWriter } from '@cloud-connect/db';
import type { EventRegistry } from '@cloud-connect/kafka';
import argon2 from 'argon2';
import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { ARGON2_OPTIONS } from '../identity/register-user';
import { UsersRepository } from '../identity/users.repository';
import { siteRecord, siteView, type SiteEntity } from '../sites/site.entity';
import { SitesRepository } from '../sites/sites.repository';
import { AccountOutbox } from './account-mail';
import { AccountRepository } from './account.repository';
import type { SiteAdmin, UpdateSiteAccount } from './account.schemas';

export type AccountErrorCode =
  | 'not-found'
  | 'already-admin'
  | 'last-admin'
  | 'invalid-link'
  | 'expired-link'
  | 'throttled'
  | 'weak-password';

/** Errors of the site account and its administrators' links (problem+json at the edge). */
export class AccountError extends domainErrorClass<AccountErrorCode>('account', {
  'not-found': 'not-found',
  'already-admin': 'conflict',
  'last-admin': 'conflict',
  'invalid-link': 'invalid',
  'expired-link': 'invalid',
  'weak-password': 'invalid',
  throttled: 'throttled',
}) {}

export interface Caller {
  actor: string;
  email: string;
  sourceAddress: string;
}

/**
 * The site account: its settings (name, clinical administrator e-mail, language, time zone) and
 * its administrators (invite, remove, send a password reset link). Every change is audited and
 * commits with its e-mails and the refreshed site record for the other services.
 */
export class SiteAccount {
  private readonly sites = new SitesRepository();
  private readonly users: UsersRepository;
  private readonly account: AccountRepository;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly registry: EventRegistry,
    private readonly mails: AccountOutbox,
  ) {
    this.users = new UsersRepository(dataSource);
    this.account = new AccountRepository(dataSource);
  }

  async update(
    siteNumber: string,
    change: UpdateSiteAccount,
    caller: Caller,
  ): Promise<Record<string, unknown>> {
    return this.dataSource.transaction(async (tx) => {
      const before = await this.site(tx, siteNumber);
      await this.account.updateSite(tx, siteNumber, change);
      const after = await this.site(tx, siteNumber);
      const changed = (['name', 'locale', 'timezone', 'clinicalAdminEmail'] as const).filter(
        (key) => before[key] !== after[key],
      );
      if (changed.length === 0) return siteView(after);
      await this.mails.audit(
        tx,
        siteNumber,
        caller,
        'site.update',
        `site/${siteNumber} (${changed.join(', ')})`,
      );
      if (changed.includes('clinicalAdminEmail')) {
        await this.mails.audit(
          tx,
          siteNumber,
          caller,
          'site.clinical-admin-email.change',
          `site/${siteNumber}`,
        );
        const oldAddress = before.clinicalAdminEmail ?? before.adminEmail;
        const newAddress = after.clinicalAdminEmail ?? after.adminEmail;
        const params = {
          siteNumber,
          siteName: after.name,
          actor: caller.email,
          oldEmail: before.clinicalAdminEmail ?? '',
          newEmail: after.clinicalAdminEmail ?? '',
          at: new Date().toISOString(),
          timezone: after.timezone,
        };
        for (const recipient of new Set([oldAddress.toLowerCase(), newAddress.toLowerCase()]))
          await this.mails.mail(
            tx,
            siteNumber,
            after.locale,
            'site.clinical-admin-changed',
            recipient,
            params,
          );
      }
      // The other services keep a replica of the site record: the event carries the current one.
      await this.outbox.enqueue(
        tx,
        this.registry.create(Events.siteRegistered, siteNumber, siteRecord(after)),
      );
      return siteView(after);
    });
  }

  async people(siteNumber: string): Promise<SiteAdmin[]> {
    await this.site(this.dataSource.manager, siteNumber);
    return this.account.peopleOf(this.dataSource.manager, siteNumber);
  }

  /**
   * Invites an administrator: a new person gets an account without a password and an e-mail
   * with a one-time link to set one; someone who already has an account is granted the role
   * and told by e-mail.
   */
  async invite(
    siteNumber: string,
    email: string,
    caller: Caller,
  ): Promise<{ userId: string; email: string; outcome: 'invited' | 'granted' }> {
    // An unusable password until the invitation is accepted (and the account is disabled).
    const placeholder = await argon2.hash(randomBytes(32).toString('base64url'), ARGON2_OPTIONS);
    return this.dataSource.transaction(async (tx) => {
      const site = await this.site(tx, siteNumber);
      let user = await this.users.findByEmail(tx, email);
      if (user && (await this.account.memberOf(tx, siteNumber, user.id))?.role === 'admin')
        throw new AccountError('already-admin', `${email} is already an administrator of this site`);
      const isNew = !user;
      if (!user) {
        const id = randomUUID();
        if (
          (await this.users.insert(tx, { id, email, passwordHash: placeholder, disabled: true })) === 'exists'
        )
          throw new AccountError('already-admin', `${email} was invited at the same moment; reload the list`);
        user = { id, email, passwordHash: placeholder, disabled: true };
      }
      await this.users.grant(tx, user.id, siteNumber, 'admin');
      await this.mails.audit(
        tx,
        siteNumber,
        caller,
        isNew || user.disabled ? 'user.invite' : 'user.grant.admin',
        `user/${user.id}`,
      );
      const params = { siteNumber, siteName: site.name, actor: caller.email };
      if (isNew || user.disabled) {
        const link = await this.mails.link(tx, user.id, siteNumber, 'invite', caller.actor);
        await this.mails.mail(tx, siteNumber, site.locale, 'account.invite', user.email, params, { link });
        return { userId: user.id, email: user.email, outcome: 'invited' as const };
      }
      await this.mails.mail(tx, siteNumber, site.locale, 'account.granted', user.email, {
        ...params,
        consoleUrl: this.mails.consoleUrl,
      });
      return { userId: user.id, email: user.email, outcome: 'granted' as const };
    });
  }

  /** Removes a person's role at this site; the site's last administrator is never removed. */
  async remove(siteNumber: string, userId: string, caller: Caller): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      await this.site(tx, siteNumber);
      const admins = await this.account.lockAdmins(tx, siteNumber);
      const member = await this.account.memberOf(tx, siteNumber, userId);
      if (!member) throw new AccountError('not-found', 'no such administrator at this site');
      if (member.role === 'admin' && admins.length <= 1)
        throw new AccountError(
          'last-admin',
          'this is the last administrator of the site; invite another administrator first',
        );
      await this.account.revoke(tx, siteNumber, userId);
      await this.mails.audit(tx, siteNumber, caller, 'user.remove', `user/${userId}`);
    });
  }

  /** E-mails the person a one-time link to choose a new password (their current one still works). */
  async sendReset(siteNumber: string, userId: string, caller: Caller): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      const site = await this.site(tx, siteNumber);
      const member = await this.account.memberOf(tx, siteNumber, userId);
      if (!member) throw new AccountError('not-found', 'no such administrator at this site');
      const purpose = member.disabled ? 'invite' : 'reset';
      const link = await this.mails.link(tx, userId, siteNumber, purpose, caller.actor);
      await this.mails.audit(
        tx,
        siteNumber,
        caller,
        purpose === 'invite' ? 'user.invite' : 'user.password.reset-link',
        `user/${userId}`,
      );
      await this.mails.mail(
        tx,
        siteNumber,
        site.locale,
        purpose === 'invite' ? 'account.invite' : 'account.password-reset',
        member.email,
        { siteNumber, siteName: site.name, actor: caller.email },
        { link },
      );
    });
  }

  private async site(tx: EntityManager, siteNumber: string): Promise<SiteEntity> {
    const site = await this.sites.findByNumber(tx, siteNumber);
    if (!site) throw new AccountError('not-found', `site ${siteNumber} does not exist`);
    return site;
  }
}
