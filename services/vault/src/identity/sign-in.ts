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
import type { DataSource } from 'typeorm';
import { ARGON2_OPTIONS } from './register-user';
import type { AdminSigningKeys } from './signing-keys';
import { UsersRepository, type UserRecord } from './users.repository';

export type SignInErrorCode = 'invalid-credentials' | 'throttled' | 'busy';

export class SignInError extends domainErrorClass<SignInErrorCode>('identity', {
  'invalid-credentials': 'unauthenticated',
  throttled: 'throttled',
  busy: 'unavailable',
}) {
  constructor(code: SignInErrorCode, retryAfterSeconds?: number) {
    super(
      code,
      code === 'throttled'
        ? 'too many failed sign-ins; try again later'
        : code === 'busy'
          ? 'too many sign-ins at once; try again in a moment'
          : 'e-mail or password is incorrect',
      [],
      retryAfterSeconds === undefined ? {} : { retryAfterSeconds },
    );
  }
}

export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

/** Per account: a handful of guesses. Per source address: more, since a clinic shares one NAT address. */
const MAX_ATTEMPTS = { account: 5, address: 50 } as const;
const WINDOW_SECONDS = 15 * 60;
/** Argon2id verifications at once (19 MiB each) and how many may wait; beyond that 503. */
const ARGON2_CONCURRENCY = 4;
const ARGON2_QUEUE = 64;

/**
 * Signs people in with e-mail and password (Argon2id) and issues short-lived admin tokens.
 * Unknown e-mails cost the same as known ones (a dummy hash is verified). Every attempt is
 * counted per e-mail (or user) and per source address in Postgres, shared by all replicas,
 * *before* the hash is checked; a success is then forgiven. Argon2 work is capped.
 */
export class SignIn {
  private readonly users: UsersRepository;
  private readonly throttle: PostgresAttemptThrottle;
  private readonly gate = new ConcurrencyGate(ARGON2_CONCURRENCY, ARGON2_QUEUE);
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly keys: AdminSigningKeys,
    private readonly now: () => number = Date.now,
  ) {
    this.users = new UsersRepository(dataSource);
    this.throttle = new PostgresAttemptThrottle(dataSource, schemaOf(dataSource), WINDOW_SECONDS);
  }

  async withPassword(email: string, password: string, sourceAddress: string): Promise<IssuedToken> {
    const limits = [
      { key: `email:${email.toLowerCase()}`, max: MAX_ATTEMPTS.account },
      { key: `ip:${sourceAddress}`, max: MAX_ATTEMPTS.address },
    ];
    await this.takeAttempt(limits);
    const user = await this.users.findByEmail(this.dataSource.manager, email);
    if (!(await this.passwordMatches(user, password)) || !user || user.disabled) {
      throw new SignInError('invalid-credentials');
    }
    await this.throttle.forgive(limits.map((l) => l.key));
    return this.issue(user);
  }

  /** A fresh sign-in for someone already holding a token: resets `authTime` for sensitive actions. */
  async reauthenticate(
    principal: AdminPrincipal,
    password: string,
    sourceAddress: string,
  ): Promise<IssuedToken> {
    const limits = [
      { key: `user:${principal.userId}`, max: MAX_ATTEMPTS.account },
      { key: `ip:${sourceAddress}`, max: MAX_ATTEMPTS.address },
    ];
    await this.takeAttempt(limits);
    const user = await this.users.findById(this.dataSource.manager, principal.userId);
    if (!(await this.passwordMatches(user, password)) || !user || user.disabled) {
      throw new SignInError('invalid-credentials');
    }
    await this.throttle.forgive(limits.map((l) => l.key));
    return this.issue(user);
  }

  private async issue(user: UserRecord): Promise<IssuedToken> {
    const sites = await this.users.rolesOf(this.dataSource.manager, user.id);
    const token = await signAdminToken(
      { userId: user.id, email: user.email, sites, authTime: Math.floor(this.now() / 1000) },
      this.keys.signingKey,
    );
    return { access_token: token, token_type: 'Bearer', expires_in: ADMIN_TOKEN_TTL_SECONDS };
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

  private async takeAttempt(limits: AttemptLimit[]): Promise<void> {
    const wait = await this.throttle.take(limits);
    if (wait > 0) throw new SignInError('throttled', wait);
  }
}
