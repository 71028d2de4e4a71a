import { signAdminToken, ADMIN_TOKEN_TTL_SECONDS, type AdminPrincipal } from '@cloud-connect/auth';
import argon2 from 'argon2';
import type { DataSource } from 'typeorm';
import { ARGON2_OPTIONS } from './register-user';
import type { AdminSigningKeys } from './signing-keys';
import { UsersRepository, type UserRecord } from './users.repository';

export class SignInError extends Error {
  constructor(
    readonly code: 'invalid-credentials' | 'throttled',
    readonly retryAfterSeconds = 0,
  ) {
    super(
      code === 'throttled' ? 'too many failed sign-ins; try again later' : 'e-mail or password is incorrect',
    );
    this.name = 'SignInError';
  }
}

export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

/** Per account: a handful of guesses. Per source address: more, since a clinic shares one NAT address. */
const MAX_FAILURES = { account: 5, address: 50 } as const;
const FAILURE_WINDOW_MS = 15 * 60 * 1000;
const TRACKED_KEYS = 10000;

/**
 * Signs people in with e-mail and password (Argon2id) and issues short-lived admin tokens.
 * Unknown e-mails cost the same as known ones (a dummy hash is verified), and repeated failures
 * per e-mail and per source address are throttled.
 */
export class SignIn {
  private readonly users: UsersRepository;
  private readonly failures = new Map<string, { count: number; since: number }>();
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly keys: AdminSigningKeys,
    private readonly now: () => number = Date.now,
  ) {
    this.users = new UsersRepository(dataSource);
  }

  async withPassword(email: string, password: string, sourceAddress: string): Promise<IssuedToken> {
    const throttleKeys = [`email:${email.toLowerCase()}`, `ip:${sourceAddress}`];
    this.assertNotThrottled(throttleKeys);
    const user = await this.users.findByEmail(this.dataSource.manager, email);
    if (!(await this.passwordMatches(user, password)) || !user || user.disabled) {
      this.recordFailure(throttleKeys);
      throw new SignInError('invalid-credentials');
    }
    for (const key of throttleKeys) this.failures.delete(key);
    return this.issue(user);
  }

  /** A fresh sign-in for someone already holding a token: resets `authTime` for sensitive actions. */
  async reauthenticate(
    principal: AdminPrincipal,
    password: string,
    sourceAddress: string,
  ): Promise<IssuedToken> {
    const throttleKeys = [`user:${principal.userId}`, `ip:${sourceAddress}`];
    this.assertNotThrottled(throttleKeys);
    const user = await this.users.findById(this.dataSource.manager, principal.userId);
    if (!(await this.passwordMatches(user, password)) || !user || user.disabled) {
      this.recordFailure(throttleKeys);
      throw new SignInError('invalid-credentials');
    }
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
      return (await argon2.verify(hash, password)) && user !== null;
    } catch {
      return false;
    }
  }

  private assertNotThrottled(keys: string[]): void {
    for (const key of keys) {
      const entry = this.failures.get(key);
      if (!entry) continue;
      const age = this.now() - entry.since;
      if (age > FAILURE_WINDOW_MS) this.failures.delete(key);
      else if (entry.count >= (key.startsWith('ip:') ? MAX_FAILURES.address : MAX_FAILURES.account))
        throw new SignInError('throttled', Math.ceil((FAILURE_WINDOW_MS - age) / 1000));
    }
  }

  private recordFailure(keys: string[]): void {
    for (const key of keys) {
      const entry = this.failures.get(key);
      if (entry && this.now() - entry.since <= FAILURE_WINDOW_MS) entry.count += 1;
      else this.failures.set(key, { count: 1, since: this.now() });
    }
    // Bounded memory: forget the oldest entries first.
    while (this.failures.size > TRACKED_KEYS) {
      const oldest = this.failures.keys().next().value;
      if (oldest === undefined) break;
      this.failures.delete(oldest);
    }
  }
}
