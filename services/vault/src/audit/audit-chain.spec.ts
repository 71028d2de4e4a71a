import { randomBytes, randomUUID } from 'node:crypto';
import {
  canonicalJson,
  entryHash,
  entryHmac,
  GENESIS_HASH,
  verifyChain,
  type AuditEntry,
  type ChainedEntry,
} from './audit-chain';

const KEY = randomBytes(32);

/** A chain of `n` entries; entries from `keyedFrom` on are HMAC'd under KEY (the switch point). */
function chain(n: number, keyedFrom = 1, key = KEY): ChainedEntry[] {
  const out: ChainedEntry[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq += 1) {
    const entry: AuditEntry = {
      siteNumber: '42',
      seq,
      auditId: randomUUID(),
      occurredAt: new Date(1700000000000 + seq * 1000).toISOString(),
      actor: 'admin:a@b.ca',
      action: 'sek.view',
      target: 'site/42/sek',
      outcome: 'allowed',
      sourceAddress: '127.0.0.1',
    };
    const keyed = seq >= keyedFrom;
    const hash = keyed ? entryHmac(entry, prev, key) : entryHash(entry, prev);
    out.push({ ...entry, prevHash: prev, hash, hashAlg: keyed ? 'hmac-sha256' : 'sha256' });
    prev = hash;
  }
  return out;
}

/** What an attacker without the key can do: recompute every link from `from` on with plain SHA-256. */
function rehashPlain(entries: ChainedEntry[], from: number): ChainedEntry[] {
  const out = entries.slice(0, from - 1);
  let prev = out[out.length - 1]?.hash ?? GENESIS_HASH;
  for (const e of entries.slice(from - 1)) {
    const hash = entryHash(e, prev);
    out.push({ ...e, prevHash: prev, hash, hashAlg: 'sha256' });
    prev = hash;
  }
  return out;
}

const anchorOf = (entries: ChainedEntry[], seq: number, hmacSince: number | null = 1) => ({
  seq,
  hash: entries[seq - 1]!.hash,
  hmacSince,
});

describe('audit chain (keyed, anchored)', () => {
  it('canonical JSON sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('verifies an intact keyed chain against its anchor and reports its head', async () => {
    const entries = chain(5);
    expect(await verifyChain(entries, { key: KEY, anchor: anchorOf(entries, 4) })).toEqual({
      ok: true,
      entries: 5,
      headSeq: 5,
      headHash: entries[4]?.hash,
      anchoredSeq: 4,
    });
  });

  it('verifies plain SHA-256 entries written before the switch, then keyed ones', async () => {
    const entries = chain(6, 4);
    expect(await verifyChain(entries, { key: KEY, anchor: anchorOf(entries, 6, 4) })).toMatchObject({
      ok: true,
      headSeq: 6,
    });
    // Unkeyed only (an installation before the switch, no key read): still verifies.
    expect(await verifyChain(chain(3, 99), { key: null, anchor: null })).toMatchObject({ ok: true });
  });

  it('pinpoints an edited row', async () => {
    const entries = chain(5);
    entries[2] = { ...entries[2]!, actor: 'admin:someone-else@b.ca' };
    expect(await verifyChain(entries, { key: KEY, anchor: null })).toMatchObject({
      ok: false,
      brokenAtSeq: 3,
      problem: 'hash-mismatch',
    });
  });

  it('pinpoints a row edited and re-linked under a guessed key (no key, no valid HMAC)', async () => {
    const entries = chain(5);
    const edited = { ...entries[1]!, outcome: 'denied' as const };
    entries[1] = { ...edited, hash: entryHmac(edited, edited.prevHash, randomBytes(32)) };
    expect(await verifyChain(entries, { key: KEY, anchor: null })).toMatchObject({
      ok: false,
      brokenAtSeq: 2,
      problem: 'hash-mismatch',
    });
  });

  it('pinpoints a suffix rewritten with fresh plain hashes after the switch', async () => {
    const entries = rehashPlain(chain(6), 3);
    expect(await verifyChain(entries, { key: KEY, anchor: null })).toMatchObject({
      ok: false,
      brokenAtSeq: 3,
      problem: 'unkeyed-after-keyed',
    });
  });

  it('pinpoints a whole chain rewritten unkeyed: the anchor says where keying began', async () => {
    const original = chain(6);
    const entries = rehashPlain(original, 1);
    expect(await verifyChain(entries, { key: KEY, anchor: anchorOf(original, 5) })).toMatchObject({
      ok: false,
      brokenAtSeq: 1,
      problem: 'unkeyed-after-keyed',
    });
  });

  it('pinpoints an anchored entry replaced by a plain chain written before the switch', async () => {
    const original = chain(4, 99);
    const entries = original.map((e) => ({ ...e }));
    entries[1] = { ...entries[1]!, target: 'site/42/elsewhere' };
    const rewritten = rehashPlain(entries, 2);
    expect(await verifyChain(rewritten, { key: KEY, anchor: anchorOf(original, 3, null) })).toMatchObject({
      ok: false,
      brokenAtSeq: 3,
      problem: 'anchor-mismatch',
    });
  });

  it('pinpoints a deleted row (the first missing sequence number)', async () => {
    const entries = chain(5);
    entries.splice(3, 1);
    expect(await verifyChain(entries, { key: KEY, anchor: null })).toMatchObject({
      ok: false,
      brokenAtSeq: 4,
      auditId: null,
      problem: 'sequence-gap',
    });
  });

  it('names a tail deleted behind the anchor, and a chain deleted whole', async () => {
    const entries = chain(6);
    const anchor = anchorOf(entries, 6);
    expect(await verifyChain(entries.slice(0, 4), { key: KEY, anchor })).toMatchObject({
      ok: false,
      brokenAtSeq: 5,
      problem: 'truncated',
      anchoredSeq: 6,
    });
    expect(await verifyChain([], { key: KEY, anchor })).toMatchObject({
      ok: false,
      brokenAtSeq: 1,
      problem: 'truncated',
    });
  });

  it('a keyed entry does not verify without the key', async () => {
    expect(await verifyChain(chain(2), { key: null, anchor: null })).toMatchObject({
      ok: false,
      brokenAtSeq: 1,
      problem: 'hash-mismatch',
    });
  });

  it('verifies only what follows a verified entry', async () => {
    const entries = chain(6);
    const after = { seq: 3, hash: entries[2]!.hash };
    expect(await verifyChain(entries.slice(3), { key: KEY, anchor: null, after })).toMatchObject({
      ok: true,
      entries: 3,
      headSeq: 6,
    });
    expect(await verifyChain(entries.slice(4), { key: KEY, anchor: null, after })).toMatchObject({
      ok: false,
      brokenAtSeq: 4,
      problem: 'sequence-gap',
    });
  });
});
