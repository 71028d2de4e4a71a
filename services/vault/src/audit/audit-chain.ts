import { createHash } from 'node:crypto';

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

export interface ChainedEntry extends AuditEntry {
  prevHash: string;
  hash: string;
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

/** sha256 over the previous hash and the canonical JSON of the entry (hex). */
export function entryHash(entry: AuditEntry, prevHash: string): string {
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
  return createHash('sha256').update(prevHash).update('\n').update(canonicalJson(fields)).digest('hex');
}

export type VerifyResult =
  | { ok: true; entries: number; headHash: string }
  | {
      ok: false;
      entries: number;
      brokenAtSeq: number;
      auditId: string;
      problem: 'hash-mismatch' | 'prev-hash-mismatch' | 'sequence-gap';
    };

/**
 * Walks a site's chain in order and reports the first broken link: an entry whose stored hash is
 * not the hash of its content (the row was edited), whose prevHash is not the previous entry's
 * hash, or whose sequence number skips (a row was deleted).
 */
export async function verifyChain(
  entries: Iterable<ChainedEntry> | AsyncIterable<ChainedEntry>,
): Promise<VerifyResult> {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  for await (const entry of entries) {
    count += 1;
    const broken = (problem: 'hash-mismatch' | 'prev-hash-mismatch' | 'sequence-gap'): VerifyResult => ({
      ok: false,
      entries: count,
      brokenAtSeq: entry.seq,
      auditId: entry.auditId,
      problem,
    });
    if (entry.seq !== expectedSeq) return broken('sequence-gap');
    if (entry.prevHash !== prev) return broken('prev-hash-mismatch');
    if (entryHash(entry, entry.prevHash) !== entry.hash) return broken('hash-mismatch');
    prev = entry.hash;
    expectedSeq += 1;
  }
  return { ok: true, entries: count, headHash: prev };
}
