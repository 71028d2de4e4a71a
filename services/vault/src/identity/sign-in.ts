import { domainErrorClass } from '@cloud-connect/errors';
import {
  ConcurrencyGate,
  GateBusyError,
  signAdminToken,
  ADMIN_TOKEN_TTL_SECONDS,
  type AdminPrincipal,
} from '@cloud-connect/auth';
import { PostgresAttemptThrottle, schemaOf, type AttemptLimit } from '@cloud-connect/db';
import argon2 from 'argon2';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { ARGON2_OPTIONS } from './register-user';
import type { AdminSigningKeys } from './signing-keys';
import { SessionsRepository, type AuthMethod } from './sessions.repository';
import type { TotpFactor } from './totp';
import { UsersRepository, type UserRecord } from './users.repository';

/** Only the SHA-256 of a refresh token is kept. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export type SignInErrorCode = 'invalid-credentials' | 'throttled' | 'busy' | 'code-required' | 'invalid-code';

const MESSAGES: Record<SignInErrorCode, string> = {
  'invalid-credentials': 'e-mail or password is incorrect',
  throttled: 'too many failed sign-ins; try again later',
  busy: 'too many sign-ins at once; try again in a moment',
  'code-required': 'enter the 6-digit code of your authenticator app (or a recovery code)',
  'invalid-code': 'the code is not valid or was already used; wait for the next one',
};

export class SignInError extends domainErrorClass<SignInErrorCode>('identity', {
  'invalid-credentials': 'unauthenticated',
  throttled: 'throttled',
  busy: 'unavailable',
  'code-required': 'unauthenticated',
  'invalid-code': 'unauthenticated',
}) {
  constructor(code: SignInErrorCode, retryAfterSeconds?: number) {
    super(code, MESSAGES[code], [], retryAfterSeconds === undefined ? {} : { retryAfterSeconds });
  }
}

export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  /** The session's refresh token (sign-in only; the CLI keeps it, the console does not need it). */
  refresh_token?: string;
  session_id: string;
}

/** Where a sign-in comes from and what it proves beyond the password. */
export interface SignInContext {
  sourceAddress: string;
  userAgent?: string | undefined;
  /** A TOTP code or a recovery code (required once an authenticator app is set up). */
  code?: string | undefined;
}

/** Per account: a handful of guesses. Per source address: more, since a clinic shares one NAT address. */
const MAX_ATTEMPTS = { account: 5, address: 50 } as const;
const WINDOW_SECONDS = 15 * 60;
/** Argon2id verifications at once (19 MiB each) and how many may wait; beyond that 503. */
const ARGON2_CONCURRENCY = 4;
const ARGON2_QUEUE = 64;

/** The attempts of one account (`email:…` or `user:…`) and of one source address. */
function attemptLimits(account: string, sourceAddress: string): AttemptLimit[] {
  return [
    { key: account, max: MAX_ATTEMPTS.account },
    { key: `ip:${sourceAddress}`, max: MAX_ATTEMPTS.address },
  ];
}

/**
 * Signs people in with e-mail and password (Argon2id), then the TOTP or recovery code once an
 * authenticator app is set up; each sign-in opens a revocable session (its id is the token's
 * `sid`) and issues a short-lived admin token.
 * Unknown e-mails cost the same as known ones (a dummy hash is verified). Every attempt is
 * counted per e-mail (or user) and per source address in Postgres, shared by all replicas,
 * *before* the hash is checked; a success is then forgiven. Argon2 work is capped.
 */
export class SignIn {
  private readonly users: UsersRepository;
  private readonly throttle: PostgresAttemptThrottle;
  private readonly gate = new ConcurrencyGate(ARGON2_CONCURRENCY, ARGON2_QUEUE);
  private dummyHash: Promise<string> | undefined;

  private readonly sessions: SessionsRepository;

  constructor(
    private readonly dataSource: DataSource,
    private readonly keys: AdminSigningKeys,
    private readonly totp: TotpFactor,
    private readonly now: () => number = Date.now,
  ) {
    this.users = new UsersRepository(dataSource);
    this.sessions = new SessionsRepository(dataSource);
    this.throttle = new PostgresAttemptThrottle(dataSource, schemaOf(dataSource), WINDOW_SECONDS);
  }

  async withPassword(email: string, password: string, context: SignInContext): Promise<IssuedToken> {
    return this.passwordStep(
      attemptLimits(`email:${email.toLowerCase()}`, context.sourceAddress),
      (manager) => this.users.findByEmail(manager, email),
      password,
      async (tx, user) => {
        const amr = await this.secondFactor(tx, user, context.code);
        const sessionId = randomUUID();
        const refreshToken = randomBytes(32).toString('base64url');
        const authTime = Math.floor(this.now() / 1000);
        await this.sessions.create(tx, {
          id: sessionId,
          userId: user.id,
          refreshHash: hashRefreshToken(refreshToken),
          amr,
          authTime,
          sourceAddress: context.sourceAddress,
          userAgent: context.userAgent?.slice(0, 200) ?? null,
        });
        return { ...(await this.issue(tx, user, sessionId, amr, authTime)), refresh_token: refreshToken };
      },
      // The right password without its code is the first of two steps, not a failed guess: it
      // does not count (a wrong code does), so the two-step sign-in costs one attempt.
      (error) => error instanceof SignInError && error.code === 'code-required',
    );
  }

  /** A fresh sign-in within the session (password, and code once enrolled): the step-up. */
  async reauthenticate(
    principal: AdminPrincipal,
    password: string,
    context: SignInContext,
  ): Promise<IssuedToken> {
    return this.passwordStep(
      attemptLimits(`user:${principal.userId}`, context.sourceAddress),
      (manager) => this.users.findById(manager, principal.userId),
      password,
      async (tx, user) => {
        const amr = await this.secondFactor(tx, user, context.code);
        const authTime = Math.floor(this.now() / 1000);
        if (!(await this.sessions.reauthenticated(tx, user.id, principal.sessionId, amr, authTime)))
          throw new SignInError('invalid-credentials');
        return this.issue(tx, user, principal.sessionId, amr, authTime);
      },
    );
  }

  /** A new access token for an open session (same sign-in time and methods, roles read again). */
  async issue(
    tx: EntityManager,
    user: UserRecord,
    sessionId: string,
    amr: AuthMethod[],
    authTime: number,
  ): Promise<IssuedToken> {
    const sites = await this.users.rolesOf(tx, user.id);
    const token = await signAdminToken(
      { userId: user.id, email: user.email, sites, authTime, sessionId, amr },
      this.keys.signingKey,
    );
    return {
      access_token: token,
      token_type: 'Bearer',
      expires_in: ADMIN_TOKEN_TTL_SECONDS,
      session_id: sessionId,
    };
  }

  private async secondFactor(
    tx: EntityManager,
    user: UserRecord,
    code: string | undefined,
  ): Promise<AuthMethod[]> {
    if (!(await this.totp.isEnrolled(tx, user.id))) return ['pwd'];
    if (!code) throw new SignInError('code-required');
    if (!(await this.totp.check(tx, user.id, user.email, code.trim()))) throw new SignInError('invalid-code');
    return ['pwd', 'otp'];
  }

  private async passwordMatches(user: UserRecord | null, password: string): Promise<boolean> {
    this.dummyHash ??= argon2.hash('not-a-real-password-0000', ARGON2_OPTIONS);
    const hash = user?.passwordHash ?? (await this.dummyHash);
    try {
      return (await this.gate.run(() => argon2.verify(hash, password))) && user !== null;
    } catch (error) {
      if (error instanceof GateBusyError) throw new SignInError('busy', 1);
      return false;
    }
  }

  /**
   * A password step (sign-in or step-up): an attempt taken under each limit, the password of the
   * enabled person `find` finds checked (`invalid-credentials` otherwise, with the same work whether
   * or not the person exists), then `work` in one transaction. Once it succeeds the attempts are
   * forgiven; a failure counts unless `forgivable` says it is not a wrong guess.
   */
  private async passwordStep<T>(
    limits: AttemptLimit[],
    find: (manager: EntityManager) => Promise<UserRecord | null>,
    password: string,
    work: (tx: EntityManager, user: UserRecord) => Promise<T>,
    forgivable: (error: unknown) => boolean = () => false,
  ): Promise<T> {
    await this.takeAttempt(limits);
    const user = await find(this.dataSource.manager);
    if (!(await this.passwordMatches(user, password)) || !user || user.disabled) {
      throw new SignInError('invalid-credentials');
    }
    const forgive = (): Promise<void> => this.throttle.forgive(limits.map((l) => l.key));
    const result = await this.dataSource
      .transaction((tx) => work(tx, user))
      .catch(async (error: unknown) => {
        if (forgivable(error)) await forgive();
        throw error;
      });
    await forgive();
    return result;
  }

  private async takeAttempt(limits: AttemptLimit[]): Promise<void> {
    const wait = await this.throttle.take(limits);
    if (wait > 0) throw new SignInError('throttled', wait);
  }
}
