import { domainErrorClass } from '@cloud-connect/errors';
import { ARGON2ID_COST, type SiteRole } from '@cloud-connect/auth';
import type { OutboxWriter } from '@cloud-connect/db';
import type { EventRegistry } from '@cloud-connect/kafka';
import { auditEvent } from '@cloud-connect/service-kit';
import argon2 from 'argon2';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { isWeakPassword, WEAK_PASSWORD_MESSAGE } from './password-strength';
import { UsersRepository } from './users.repository';

/** Argon2id at the cost every service stores secrets with. */
export const ARGON2_OPTIONS = { type: argon2.argon2id, ...ARGON2ID_COST } as const;

export const registerUserInput = z.object({
  email: z.email('e-mail is not a valid e-mail address'),
  password: z
    .string()
    .min(12, 'a password has at least 12 characters')
    .max(256, 'a password has at most 256 characters'),
  siteNumber: z.string().regex(/^[1-9][0-9]{0,9}$/, 'a site number is 1 to 10 digits, not starting with 0'),
  role: z.enum(['admin', 'member'], 'role is admin or member').default('admin'),
});

export type RegisterUserInput = z.input<typeof registerUserInput>;

export type IdentityErrorCode =
  'invalid-user' | 'user-exists' | 'no-such-site' | 'no-such-user' | 'weak-password';

export class IdentityError extends domainErrorClass<IdentityErrorCode>('identity', {
  'invalid-user': 'invalid',
  'user-exists': 'conflict',
  'no-such-site': 'not-found',
  'no-such-user': 'not-found',
  'weak-password': 'invalid',
}) {}

/** Creates a person with a role at a site (or grants a role to an existing one), audited. */
export class RegisterUser {
  private readonly users: UsersRepository;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly registry: EventRegistry,
  ) {
    this.users = new UsersRepository(dataSource);
  }

  async create(
    input: RegisterUserInput,
    actor: string,
  ): Promise<{ userId: string; email: string; siteNumber: string; role: SiteRole }> {
    const parsed = registerUserInput.safeParse(input);
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
      throw new IdentityError('invalid-user', `invalid user: ${details.join('; ')}`, details);
    }
    const { email, password, siteNumber, role } = parsed.data;
    if (isWeakPassword(password, [email]))
      throw new IdentityError('weak-password', `password: ${WEAK_PASSWORD_MESSAGE}`, [
        `password: ${WEAK_PASSWORD_MESSAGE}`,
      ]);
    const passwordHash = await argon2.hash(password, ARGON2_OPTIONS);
    const userId = randomUUID();
    return this.dataSource.transaction(async (tx) => {
      if ((await this.users.insert(tx, { id: userId, email, passwordHash, disabled: false })) === 'exists') {
        throw new IdentityError('user-exists', `a user with e-mail ${email} already exists`);
      }
      if ((await this.users.grant(tx, userId, siteNumber, role)) === 'no-site') {
        throw new IdentityError('no-such-site', `site ${siteNumber} does not exist`);
      }
      await this.audit(tx, siteNumber, actor, 'user.create', `user/${userId}`);
      return { userId, email, siteNumber, role };
    });
  }

  async grant(email: string, siteNumber: string, role: SiteRole, actor: string): Promise<{ userId: string }> {
    return this.dataSource.transaction(async (tx) => {
      const user = await this.users.findByEmail(tx, email);
      if (!user) throw new IdentityError('no-such-user', `no user with e-mail ${email}`);
      if ((await this.users.grant(tx, user.id, siteNumber, role)) === 'no-site') {
        throw new IdentityError('no-such-site', `site ${siteNumber} does not exist`);
      }
      await this.audit(tx, siteNumber, actor, `user.grant.${role}`, `user/${user.id}`);
      return { userId: user.id };
    });
  }

  private async audit(
    tx: Parameters<OutboxWriter['enqueue']>[0],
    siteNumber: string,
    actor: string,
    action: string,
    target: string,
  ): Promise<void> {
    await this.outbox.enqueue(tx, auditEvent(this.registry, siteNumber, { actor, action, target }));
  }
}
