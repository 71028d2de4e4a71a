import { AdminTokenVerifier, type AdminPrincipal, type AdminSessionCheck } from '@cloud-connect/auth';
import { Events } from '@cloud-connect/contracts';
import type { OutboxWriter } from '@cloud-connect/db';
import { domainErrorClass } from '@cloud-connect/errors';
import type { EventRegistry } from '@cloud-connect/kafka';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { hashRefreshToken, type IssuedToken, type SignIn } from './sign-in';
import { SessionsRepository, type SessionListing } from './sessions.repository';
import { UsersRepository } from './users.repository';

/** A session lasts at most this long after the person last proved their password; then sign in again. */
export const MAX_SESSION_SECONDS = 8 * 3600;

export type SessionErrorCode = 'unauthenticated' | 'session-revoked' | 'session-too-old' | 'no-such-session';

export class SessionError extends domainErrorClass<SessionErrorCode>('identity', {
  unauthenticated: 'unauthenticated',
  'session-revoked': 'unauthenticated',
  'session-too-old': 'unauthenticated',
  'no-such-session': 'not-found',
}) {}

/**
 * Sign-in sessions: each sign-in opens one (its id is the token's `sid`); sign-out revokes it,
 * "sign out everywhere" and a password change or reset revoke all of the person's sessions. The
 * vault service checks the session on every admin call (AuthGuard's ADMIN_SESSION_CHECK); the
 * other services only check the token's signature, so there a revoked session ends when its
 * access token expires (ADMIN_TOKEN_TTL_SECONDS, 5 minutes): refreshes are refused at once.
 */
export class AdminSessions implements AdminSessionCheck {
  private readonly repo: SessionsRepository;
  private readonly users: UsersRepository;

  constructor(
    private readonly dataSource: DataSource,
    private readonly verifier: AdminTokenVerifier,
    private readonly signIn: SignIn,
    private readonly outbox: OutboxWriter,
    private readonly registry: EventRegistry,
    private readonly now: () => number = Date.now,
  ) {
    this.repo = new SessionsRepository(dataSource);
    this.users = new UsersRepository(dataSource);
  }

  isActive(sessionId: string, userId: string): Promise<boolean> {
    return this.repo.isActive(this.dataSource.manager, userId, sessionId);
  }

  /** The person behind a bearer token whose session is still open (routes outside a site). */
  async bearer(authorization: string | undefined): Promise<AdminPrincipal> {
    const principal = authorization?.startsWith('Bearer ')
      ? await this.verifier.verify(authorization.slice(7)).catch(() => null)
      : null;
    if (!principal) throw new SessionError('unauthenticated', 'a valid access token is required');
    if (!(await this.isActive(principal.sessionId, principal.userId)))
      throw new SessionError('session-revoked', 'this session was signed out: sign in again');
    return principal;
  }

  /**
   * A new access token for an open session: from a still-valid access token (the console), or
   * from the session's refresh token (the CLI). Roles are read again, so a removed administrator
   * loses the site at the next refresh; refused MAX_SESSION_SECONDS after the last password.
   */
  async refresh(from: { accessToken?: string; refreshToken?: string }): Promise<IssuedToken> {
    return this.dataSource.transaction(async (tx) => {
      let session;
      if (from.refreshToken) {
        session = await this.repo.lockByRefresh(tx, hashRefreshToken(from.refreshToken));
      } else {
        const principal = from.accessToken
          ? await this.verifier.verify(from.accessToken).catch(() => null)
          : null;
        session = principal ? await this.repo.find(tx, principal.userId, principal.sessionId) : null;
      }
      if (!session) throw new SessionError('unauthenticated', 'a valid access or refresh token is required');
      if (session.revoked)
        throw new SessionError('session-revoked', 'this session was signed out: sign in again');
      if (this.now() / 1000 - session.authTime > MAX_SESSION_SECONDS)
        throw new SessionError('session-too-old', 'sign in again');
      const user = await this.users.findById(tx, session.userId);
      if (!user || user.disabled) {
        await this.repo.revoke(tx, session.userId, session.id, 'account disabled');
        throw new SessionError('session-revoked', 'this account cannot sign in');
      }
      await this.repo.touch(tx, user.id, session.id);
      return this.signIn.issue(tx, user, session.id, session.amr, session.authTime);
    });
  }

  async list(principal: AdminPrincipal): Promise<(SessionListing & { current: boolean })[]> {
    const open = await this.repo.listOpen(this.dataSource.manager, principal.userId);
    return open.map((s) => ({ ...s, current: s.id === principal.sessionId }));
  }

  async revoke(principal: AdminPrincipal, sessionId: string, sourceAddress: string): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      if (!(await this.repo.revoke(tx, principal.userId, sessionId, 'signed out')))
        throw new SessionError('no-such-session', 'no such open session of yours');
      await this.audit(tx, principal.userId, 'user.session.revoke', `session/${sessionId}`, sourceAddress);
    });
  }

  /** Revokes every session of the person (this one too); returns how many. */
  async revokeAll(principal: AdminPrincipal, sourceAddress: string): Promise<number> {
    return this.dataSource.transaction(async (tx) => {
      const count = await this.repo.revokeAll(tx, principal.userId, 'signed out everywhere');
      await this.auditSelf(tx, principal.userId, 'user.session.revoke-all', sourceAddress);
      return count;
    });
  }

  /** In a password change's or reset's transaction: every session but `keep` ends. */
  revokeOthers(tx: EntityManager, userId: string, reason: string, keep?: string): Promise<number> {
    return this.repo.revokeAll(tx, userId, reason, keep);
  }

  /** An action of a person on their own account (target `user/<id>`), audited at each of their sites. */
  auditSelf(tx: EntityManager, userId: string, action: string, sourceAddress: string): Promise<void> {
    return this.audit(tx, userId, action, `user/${userId}`, sourceAddress);
  }

  /** Audits a person's own action at every site where they hold a role (the audit trail is per site). */
  async audit(
    tx: EntityManager,
    userId: string,
    action: string,
    target: string,
    sourceAddress: string,
  ): Promise<void> {
    for (const siteNumber of Object.keys(await this.users.rolesOf(tx, userId))) {
      await this.outbox.enqueue(
        tx,
        this.registry.create(Events.auditRecorded, siteNumber, {
          auditId: randomUUID(),
          actor: `user:${userId}`,
          action,
          target,
          outcome: 'allowed',
          sourceAddress,
        }),
      );
    }
  }
}
