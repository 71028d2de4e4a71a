import { PostgresAttemptThrottle, schemaOf } from '@cloud-connect/db';
import argon2 from 'argon2';
import type { DataSource } from 'typeorm';
import { ARGON2_OPTIONS } from '../identity/register-user';
import { UsersRepository } from '../identity/users.repository';
import { SitesRepository } from '../sites/sites.repository';
import { hashToken, type AccountOutbox } from './account-mail';
import { AccountRepository } from './account.repository';
import { isWeakPassword, WEAK_PASSWORD_MESSAGE } from '../identity/password-strength';
import type { AdminSessions } from '../identity/sessions';
import { AccountError } from './site-account';

/** Per address asked for: a few requests; per source address: more (a clinic shares one). */
const FORGOT_LIMITS = { account: 3, address: 30 } as const;
const WINDOW_SECONDS = 15 * 60;

/**
 * Forgotten passwords and one-time links. A request answers the same whether or not the address
 * has an account (no enumeration) and is throttled per address and per source; using a link sets
 * the password, enables an invited account and uses up every open link of the person.
 */
export class PasswordLinks {
  private readonly users: UsersRepository;
  private readonly account: AccountRepository;
  private readonly sites = new SitesRepository();
  private readonly throttle: PostgresAttemptThrottle;

  constructor(
    private readonly dataSource: DataSource,
    private readonly mails: AccountOutbox,
    private readonly sessions: AdminSessions,
  ) {
    this.users = new UsersRepository(dataSource);
    this.account = new AccountRepository(dataSource);
    this.throttle = new PostgresAttemptThrottle(dataSource, schemaOf(dataSource), WINDOW_SECONDS);
  }

  async forgot(email: string, sourceAddress: string): Promise<void> {
    const wait = await this.throttle.take([
      { key: `reset:${email.toLowerCase()}`, max: FORGOT_LIMITS.account },
      { key: `reset-ip:${sourceAddress}`, max: FORGOT_LIMITS.address },
    ]);
    if (wait > 0) {
      throw new AccountError('throttled', 'too many requests; try again later', [], {
        retryAfterSeconds: wait,
      });
    }
    await this.dataSource.transaction(async (tx) => {
      const user = await this.users.findByEmail(tx, email);
      if (!user) return;
      const siteNumber = await this.account.firstSiteOf(tx, user.id);
      const site = siteNumber ? await this.sites.findByNumber(tx, siteNumber) : null;
      if (!site) return;
      // An invited person who never set a password gets the invitation again.
      const purpose = user.disabled ? 'invite' : 'reset';
      const link = await this.mails.link(tx, user.id, site.siteNumber, purpose, `user:${user.id}`);
      await this.mails.audit(
        tx,
        site.siteNumber,
        { actor: `user:${user.id}`, sourceAddress },
        'user.password.forgot',
        `user/${user.id}`,
      );
      await this.mails.mail(
        tx,
        site.siteNumber,
        site.locale,
        purpose === 'invite' ? 'account.invite' : 'account.password-reset',
        user.email,
        { siteNumber: site.siteNumber, siteName: site.name, actor: user.email },
        { link },
      );
    });
  }

  async reset(token: string, password: string, sourceAddress: string): Promise<{ email: string }> {
    if (isWeakPassword(password))
      throw new AccountError('weak-password', `password: ${WEAK_PASSWORD_MESSAGE}`, [
        `password: ${WEAK_PASSWORD_MESSAGE}`,
      ]);
    const passwordHash = await argon2.hash(password, ARGON2_OPTIONS);
    return this.dataSource.transaction(async (tx) => {
      const link = await this.account.lockToken(tx, hashToken(token));
      if (!link || link.used)
        throw new AccountError(
          'invalid-link',
          'this link is not valid or was already used; ask for a new one',
        );
      if (link.expired) throw new AccountError('expired-link', 'this link has expired; ask for a new one');
      const email = await this.account.setPassword(tx, link.userId, passwordHash);
      await this.account.useTokensOf(tx, link.userId);
      // A new password ends every session of the person (a thief's included).
      await this.sessions.revokeOthers(tx, link.userId, 'password reset');
      await this.mails.audit(
        tx,
        link.siteNumber,
        { actor: `user:${link.userId}`, sourceAddress },
        link.purpose === 'invite' ? 'user.invite.accept' : 'user.password.set',
        `user/${link.userId}`,
      );
      return { email };
    });
  }
}
