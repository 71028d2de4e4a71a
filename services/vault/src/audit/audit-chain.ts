import { createHash, createHmac } from 'node:crypto';

/** One entry of a site's audit chain, as hashed. */
export interface AuditEntry {
  siteNumber: string;
  seq: number;
  auditId: string;
  occurredAt: string;
  actor: string;
  action: string;
  target: string;
  outcome: 'allowed' | 'denied' | 'failed';
  sourceAddress: string | null;
}

/**
 * How an entry's link was computed: `sha256` (entries written before the keyed chain; anyone can
 * recompute them) or `hmac-sha256` under the audit key kept in Vault (only the vault service can).
 */
export type HashAlg = 'sha256' | 'hmac-sha256';

export interface ChainedEntry extends AuditEntry {
  prevHash: string;
  hash: string;
  hashAlg: HashAlg;
}

/** The previous hash of a site's first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** Canonical JSON: object keys sorted, no whitespace, so the same entry always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

function hashedFields(entry: AuditEntry): string {
  const fields: AuditEntry = {
    siteNumber: entry.siteNumber,
    seq: entry.seq,
    auditId: entry.auditId,
    occurredAt: entry.occurredAt,
    actor: entry.actor,
    action: entry.action,
    target: entry.target,
    outcome: entry.outcome,
    sourceAddress: entry.sourceAddress,
  };
  return canonicalJson(fields);
}

/** sha256 over the previous hash and the canonical JSON of the entry (hex): the unkeyed links. */
export function entryHash(entry: AuditEntry, prevHash: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(hashedFields(entry)).digest('hex');
}

/** HMAC-SHA256 under the audit key over the same input as {@link entryHash} (hex). */
export function entryHmac(entry: AuditEntry, prevHash: string, key: Buffer): string {
  return createHmac('sha256', key).update(prevHash).update('\n').update(hashedFields(entry)).digest('hex');
}

/** The chain head last written outside the database (Vault KV v2), and the first keyed entry then. */
export interface ChainAnchor {
  seq: number;
  hash: string;
  /** The first entry chained with the HMAC; null when every entry up to `seq` was unkeyed. */
  hmacSince: number | null;
}

export type ChainProblem =
  | 'hash-mismatch'
  | 'prev-hash-mismatch'
  | 'sequence-gap'
  | 'unkeyed-after-keyed'
  | 'anchor-mismatch'
  | 'truncated';

export type VerifyResult =
  | { ok: true; entries: number; headSeq: number; headHash: string; anchoredSeq: number | null }
  | {
      ok: false;
      entries: number;
      /** The first bad sequence number (for `truncated`: the first entry missing behind the anchor). */
      brokenAtSeq: number;
      /** The entry at `brokenAtSeq`; null when it is missing. */
      auditId: string | null;
      problem: ChainProblem;
      anchoredSeq: number | null;
    };

export interface VerifyOptions {
  /** The audit key; null only when no entry is keyed (a keyed entry then fails to verify). */
  key: Buffer | null;
  anchor: ChainAnchor | null;
  /** Verify only the entries after this one (already verified and anchored); default: from the start. */
  after?: { seq: number; hash: string };
}

/**
 * Walks a site's chain in order and reports the first broken link:
 * - `sequence-gap`: a sequence number skips (a row was deleted);
 * - `prev-hash-mismatch`: the entry does not link to the previous entry's hash;
 * - `hash-mismatch`: the stored hash is not the hash (or HMAC) of the entry's content;
 * - `unkeyed-after-keyed`: a plain SHA-256 entry after the first keyed one, or at or after the
 *   anchor's `hmacSince` (someone without the key re-hashed from there);
 * - `anchor-mismatch`: the entry at the anchored sequence number is not the anchored hash;
 * - `truncated`: the chain ends before the anchored sequence number (the tail was deleted).
 */
export async function verifyChain(
  entries: Iterable<ChainedEntry> | AsyncIterable<ChainedEntry>,
  options: VerifyOptions = { key: null, anchor: null },
): Promise<VerifyResult> {
  const { key, anchor, after } = options;
  const anchoredSeq = anchor?.seq ?? null;
  let prev = after?.hash ?? GENESIS_HASH;
  let expectedSeq = (after?.seq ?? 0) + 1;
  let count = 0;
  let keyedSince: number | null = anchor?.hmacSince ?? null;
  for await (const entry of entries) {
    count += 1;
    const broken = (
      problem: ChainProblem,
      seq = entry.seq,
      auditId: string | null = entry.auditId,
    ): VerifyResult => ({
      ok: false,
      entries: count,
      brokenAtSeq: seq,
      auditId,
      problem,
      anchoredSeq,
    });
    // A gap: the first missing sequence number is what was deleted.
    if (entry.seq !== expectedSeq) return broken('sequence-gap', expectedSeq, null);
    if (entry.prevHash !== prev) return broken('prev-hash-mismatch');
    if (entry.hashAlg === 'hmac-sha256') {
      if (!key || entryHmac(entry, entry.prevHash, key) !== entry.hash) return broken('hash-mismatch');
      if (keyedSince === null || keyedSince > entry.seq) keyedSince = entry.seq;
    } else {
      if (keyedSince !== null && entry.seq >= keyedSince) return broken('unkeyed-after-keyed');
      if (entryHash(entry, entry.prevHash) !== entry.hash) return broken('hash-mismatch');
    }
    if (anchor && entry.seq === anchor.seq && entry.hash !== anchor.hash) return broken('anchor-mismatch');
    prev = entry.hash;
    expectedSeq += 1;
  }
  const headSeq = expectedSeq - 1;
  if (anchor && headSeq < anchor.seq)
    return {
      ok: false,
      entries: count,
      brokenAtSeq: headSeq + 1,
      auditId: null,
      problem: 'truncated',
      anchoredSeq,
    };
  return { ok: true, entries: count, headSeq, headHash: prev, anchoredSeq };
}
