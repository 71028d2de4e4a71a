import { domainErrorClass } from '@cloud-connect/errors';
import type { OutboxWriter } from '@cloud-connect/db';
import type { EventRegistry } from '@cloud-connect/kafka';
import { auditEvent } from '@cloud-connect/service-kit';
import type { DataSource } from 'typeorm';
import { SekError } from '../sek/sek-custody';
import { parseSek } from '../sek/sek-format';
import type { SekVaultStore } from '../sek/sek-vault-store';
import { BoundedTtlCache } from '@cloud-connect/phi-client';
import {
  deriveKek,
  EnvelopeError,
  issueDataKey,
  open,
  seal,
  sekVersionOf,
  sekVersionOfWrappedKey,
  unwrapDataKey,
  type IssuedDataKey,
  type Kek,
} from './envelope';

export interface PhiCryptoSettings {
  /** How long a derived key-encryption key stays in memory. */
  kekTtlMs: number;
  /** At most this many KEKs (site × SEK version) in memory. */
  kekCacheSize: number;
  /** How long the "current SEK version" of a site is trusted before asking Vault again. */
  currentVersionTtlMs: number;
}

/** One item of a batch cannot be opened: the answer names its index (never its content). */
export class PhiItemError extends domainErrorClass<EnvelopeError['code']>('phi', {
  malformed: 'unprocessable',
  'wrong-key': 'unprocessable',
  'not-authentic': 'unprocessable',
}) {
  constructor(
    readonly index: number,
    override readonly cause: EnvelopeError,
  ) {
    super(cause.code, `item ${index}: ${cause.message}`);
  }

  override get extensions(): Record<string, unknown> {
    return { index: this.index };
  }
}

/**
 * Encrypts and decrypts PHI for other services under keys derived from the site's SEK (the SEK
 * itself never leaves this service). Each call is one audit entry (`phi.encrypt`/`phi.decrypt`
 * by the calling service, with the item count).
 */
export class PhiCrypto {
  private readonly keks: BoundedTtlCache<Kek>;
  private readonly current: BoundedTtlCache<number>;

  constructor(
    private readonly vault: SekVaultStore,
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly registry: EventRegistry,
    settings: PhiCryptoSettings,
  ) {
    this.keks = new BoundedTtlCache<Kek>(settings.kekCacheSize, settings.kekTtlMs, (kek) => kek.key.fill(0));
    this.current = new BoundedTtlCache<number>(settings.kekCacheSize, settings.currentVersionTtlMs);
    vault.onChange((site) => this.forget(site));
  }

  async encrypt(
    site: string,
    caller: string,
    items: { recordId: string; plaintext: Buffer }[],
  ): Promise<{ recordId: string; ciphertext: Buffer }[]> {
    const kek = await this.currentKek(site);
    const sealed = items.map((item) => ({
      recordId: item.recordId,
      ciphertext: seal(kek, site, item.recordId, item.plaintext),
    }));
    await this.audit(site, caller, 'phi.encrypt', items.length);
    return sealed;
  }

  async decrypt(
    site: string,
    caller: string,
    items: { recordId: string; ciphertext: Buffer }[],
  ): Promise<{ recordId: string; plaintext: Buffer }[]> {
    const opened: { recordId: string; plaintext: Buffer }[] = [];
    for (const [index, item] of items.entries()) {
      try {
        const kek = await this.kekFor(site, sekVersionOf(item.ciphertext));
        opened.push({ recordId: item.recordId, plaintext: open(kek, site, item.recordId, item.ciphertext) });
      } catch (error) {
        if (error instanceof EnvelopeError) {
          await this.audit(site, caller, 'phi.decrypt', items.length, 'failed');
          throw new PhiItemError(index, error);
        }
        throw error;
      }
    }
    await this.audit(site, caller, 'phi.decrypt', items.length);
    return opened;
  }

  /**
   * A fresh data key for the caller to encrypt records of the site locally (plaintext + wrapped
   * under the current SEK version's KEK). One audit entry per issuance: the caller caches the key
   * for a bounded time and number of records.
   */
  async issueDataKey(site: string, caller: string): Promise<IssuedDataKey> {
    const kek = await this.currentKek(site);
    const issued = issueDataKey(kek, site);
    try {
      await this.audit(site, caller, 'phi.data-key.issue', 1, 'allowed', issued.keyId);
    } catch (error) {
      issued.key.fill(0);
      throw error;
    }
    return issued;
  }

  /** Opens wrapped data keys of the site (any SEK version still stored); one audit entry per call. */
  async unwrapDataKeys(site: string, caller: string, wrapped: Buffer[]): Promise<Buffer[]> {
    const keys: Buffer[] = [];
    const discard = (): void => keys.forEach((k) => k.fill(0));
    for (const [index, item] of wrapped.entries()) {
      try {
        const kek = await this.kekFor(site, sekVersionOfWrappedKey(item));
        keys.push(unwrapDataKey(kek, site, item));
      } catch (error) {
        discard();
        if (error instanceof EnvelopeError) {
          await this.audit(site, caller, 'phi.data-key.unwrap', wrapped.length, 'failed');
          throw new PhiItemError(index, error);
        }
        throw error;
      }
    }
    try {
      await this.audit(site, caller, 'phi.data-key.unwrap', wrapped.length);
    } catch (error) {
      discard();
      throw error;
    }
    return keys;
  }

  /** After a replace or remove in this process, stop using what was cached for the site. */
  forget(site: string): void {
    this.current.deleteWhere((k) => k === site);
    this.keks.deleteWhere((k) => k.startsWith(`${site}:`));
  }

  private async currentKek(site: string): Promise<Kek> {
    let version = this.current.get(site);
    if (version === undefined) {
      const found = await this.vault.currentVersion(site);
      if (found === null) throw new SekError('sek-not-found', `site ${site} has no SEK; store one first`);
      version = found;
      this.current.set(site, version);
    }
    return this.kekFor(site, version);
  }

  private async kekFor(site: string, version: number): Promise<Kek> {
    const key = `${site}:${version}`;
    const cached = this.keks.get(key);
    if (cached) return cached;
    const stored = await this.vault.read(site, version);
    if (!stored) throw new EnvelopeError('wrong-key');
    const sek = parseSek(stored.sek);
    try {
      const kek = deriveKek(sek, site, version);
      this.keks.set(key, kek);
      return kek;
    } finally {
      sek.fill(0);
    }
  }

  private async audit(
    site: string,
    caller: string,
    action: string,
    count: number,
    outcome: 'allowed' | 'failed' = 'allowed',
    keyId?: Buffer,
  ): Promise<void> {
    const what = action.startsWith('phi.data-key')
      ? `site/${site}/sek (${keyId ? `data key ${keyId.toString('hex')}` : `${count} data key${count === 1 ? '' : 's'}`})`
      : `site/${site}/sek (${count} record${count === 1 ? '' : 's'})`;
    await this.dataSource.transaction((tx) =>
      this.outbox.enqueue(
        tx,
        auditEvent(this.registry, site, { actor: caller, action, target: what, outcome }),
      ),
    );
  }
}
