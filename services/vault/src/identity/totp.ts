import { domainErrorClass } from '@cloud-connect/errors';
import type { VaultClient } from '@cloud-connect/service-kit';
import { createHash, randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import type { DataSource, EntityManager } from 'typeorm';
import { SessionsRepository } from './sessions.repository';

export const TOTP_PERIOD_SECONDS = 30;
/** Codes of the previous and next 30-second step are accepted too (clock drift of a phone). */
const TOTP_WINDOW = 1;
const RECOVERY_CODE_COUNT = 10;
const ISSUER = 'Cloud Connect';

export const totpSecretPath = (userId: string): string => `secret/data/service/vault/admin-totp/${userId}`;

export type MfaErrorCode = 'totp-already-enrolled' | 'totp-not-started' | 'invalid-code';

export class MfaError extends domainErrorClass<MfaErrorCode>('identity', {
  'totp-already-enrolled': 'conflict',
  'totp-not-started': 'conflict',
  'invalid-code': 'invalid',
}) {}

/** A recovery code as typed (case and dashes ignored), hashed: only the hash is kept. */
export function hashRecoveryCode(code: string): string {
  const normalized = code.toUpperCase().replace(/[^A-Z2-7]/g, '');
  return createHash('sha256').update(`cloud-connect recovery code\0${normalized}`).digest('hex');
}

function newRecoveryCode(): string {
  // 80 random bits as 16 base32 characters, shown in four groups.
  const text = new Secret({ buffer: new Uint8Array(randomBytes(10)).buffer }).base32;
  return [0, 4, 8, 12].map((at) => text.slice(at, at + 4)).join('-');
}

const isTotpCode = (code: string): boolean => /^[0-9]{6}$/.test(code);

/**
 * The TOTP second factor (RFC 6238, SHA-1, 6 digits, 30 s, via `otpauth`). The secret is kept in
 * Vault KV (one entry per person, under the vault service's own policy), never in the database;
 * the database holds the factor's state and the last accepted time step, so a code (or an older
 * one) is accepted once only. Ten recovery codes (hashed, single use) replace a lost phone.
 */
export class TotpFactor {
  private readonly repo: SessionsRepository;

  constructor(
    private readonly dataSource: DataSource,
    private readonly vault: VaultClient,
    private readonly now: () => number = Date.now,
  ) {
    this.repo = new SessionsRepository(dataSource);
  }

  async status(userId: string): Promise<{ totp: 'none' | 'pending' | 'active'; recoveryCodesLeft: number }> {
    const manager = this.dataSource.manager;
    const state = await this.repo.totpState(manager, userId);
    return {
      totp: state?.state ?? 'none',
      recoveryCodesLeft: state?.state === 'active' ? await this.repo.recoveryCodesLeft(manager, userId) : 0,
    };
  }

  async isEnrolled(tx: EntityManager, userId: string): Promise<boolean> {
    return (await this.repo.totpState(tx, userId))?.state === 'active';
  }

  /** Starts enrolment: a new secret, shown once (URI for the QR code and base32 to type). */
  async begin(userId: string, email: string): Promise<{ otpauthUri: string; secret: string }> {
    if (await this.isEnrolled(this.dataSource.manager, userId))
      throw new MfaError('totp-already-enrolled', 'an authenticator app is already set up for this account');
    const secret = new Secret({ size: 20 });
    await this.vault.write(totpSecretPath(userId), { data: { secret: secret.base32 } });
    await this.repo.startTotp(this.dataSource.manager, userId);
    return { otpauthUri: this.totp(secret, email).toString(), secret: secret.base32 };
  }

  /** Confirms enrolment with a first code; answers the recovery codes (shown once). */
  async confirm(tx: EntityManager, userId: string, email: string, code: string): Promise<string[]> {
    const state = await this.repo.totpState(tx, userId, true);
    if (state?.state !== 'pending')
      throw new MfaError('totp-not-started', 'start the set-up of an authenticator app first');
    const step = await this.matchingStep(userId, email, code, 0);
    if (step === null) throw new MfaError('invalid-code', 'code: the code is not valid; try the next one');
    await this.repo.activateTotp(tx, userId, step);
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.repo.replaceRecoveryCodes(tx, userId, codes.map(hashRecoveryCode));
    return codes;
  }

  /**
   * Checks a sign-in code (in the sign-in's transaction, the factor's row locked): a TOTP code of
   * a later step than any accepted before, or an unused recovery code.
   */
  async check(tx: EntityManager, userId: string, email: string, code: string): Promise<boolean> {
    const state = await this.repo.totpState(tx, userId, true);
    if (state?.state !== 'active') return false;
    if (!isTotpCode(code)) return this.repo.useRecoveryCode(tx, userId, hashRecoveryCode(code));
    const step = await this.matchingStep(userId, email, code, state.lastStep);
    if (step === null) return false;
    await this.repo.useStep(tx, userId, step);
    return true;
  }

  private async matchingStep(
    userId: string,
    email: string,
    code: string,
    lastStep: number,
  ): Promise<number | null> {
    if (!isTotpCode(code)) return null;
    const stored = (await this.vault.read(totpSecretPath(userId))) as { data: { data: { secret: string } } };
    const totp = this.totp(Secret.fromBase32(stored.data.data.secret), email);
    const timestamp = this.now();
    const delta = totp.validate({ token: code, timestamp, window: TOTP_WINDOW });
    if (delta === null) return null;
    const step = Math.floor(timestamp / 1000 / TOTP_PERIOD_SECONDS) + delta;
    return step > lastStep ? step : null;
  }

  private totp(secret: Secret, email: string): TOTP {
    return new TOTP({
      issuer: ISSUER,
      label: email,
      algorithm: 'SHA1',
      digits: 6,
      period: TOTP_PERIOD_SECONDS,
      secret,
    });
  }
}
