import type { AdminPrincipal } from '@cloud-connect/auth';
import argon2 from 'argon2';
import type { DataSource } from 'typeorm';
import { isWeakPassword, WEAK_PASSWORD_MESSAGE } from './password-strength';
import { ARGON2_OPTIONS, IdentityError } from './register-user';
import type { AdminSessions } from './sessions';
import type { SignIn, SignInContext } from './sign-in';
import type { TotpFactor } from './totp';
import { UsersRepository } from './users.repository';

/** A person's own security settings: the authenticator app and the password (each audited). */
export class AccountSecurity {
  private readonly users: UsersRepository;

  constructor(
    private readonly dataSource: DataSource,
    private readonly signIn: SignIn,
    private readonly sessions: AdminSessions,
    private readonly totp: TotpFactor,
  ) {
    this.users = new UsersRepository(dataSource);
  }

  /** Confirms the authenticator app with its first code; answers the recovery codes (shown once). */
  async confirmTotp(principal: AdminPrincipal, code: string, sourceAddress: string): Promise<string[]> {
    return this.dataSource.transaction(async (tx) => {
      const codes = await this.totp.confirm(tx, principal.userId, principal.email, code);
      await this.sessions.auditSelf(tx, principal.userId, 'user.mfa.totp.enrol', sourceAddress);
      return codes;
    });
  }

  /**
   * Changes the password: the current one (and the code once enrolled) proves the person; the
   * new one must not be weak or breached; every other session of the person ends.
   */
  async changePassword(
    principal: AdminPrincipal,
    currentPassword: string,
    newPassword: string,
    context: SignInContext,
  ): Promise<{ otherSessionsSignedOut: number }> {
    if (isWeakPassword(newPassword, [principal.email]))
      throw new IdentityError('weak-password', `newPassword: ${WEAK_PASSWORD_MESSAGE}`, [
        `newPassword: ${WEAK_PASSWORD_MESSAGE}`,
      ]);
    await this.signIn.reauthenticate(principal, currentPassword, context);
    const hash = await argon2.hash(newPassword, ARGON2_OPTIONS);
    return this.dataSource.transaction(async (tx) => {
      await this.users.setPassword(tx, principal.userId, hash);
      const count = await this.sessions.revokeOthers(
        tx,
        principal.userId,
        'password changed',
        principal.sessionId,
      );
      await this.sessions.auditSelf(tx, principal.userId, 'user.password.change', context.sourceAddress);
      return { otherSessionsSignedOut: count };
    });
  }
}
