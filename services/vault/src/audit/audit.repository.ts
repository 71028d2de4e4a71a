import { schemaOf } from '@cloud-connect/db';
import type { EntityManager } from 'typeorm';
import { GENESIS_HASH, type ChainedEntry } from './audit-chain';

export interface AuditQuery {
  from?: Date | undefined;
  to?: Date | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  limit: number;
}

interface Row {
  site_number: string;
  seq: string;
  audit_id: string;
  occurred_at: Date;
  actor: string;
  action: string;
  target: string;
  outcome: ChainedEntry['outcome'];
  source_address: string | null;
  prev_hash: string;
  hash: string;
  hash_alg: ChainedEntry['hashAlg'];
}

function toEntry(row: Row): ChainedEntry {
  return {
    siteNumber: row.site_number,
    seq: Number(row.seq),
    auditId: row.audit_id,
    occurredAt: row.occurred_at.toISOString(),
    actor: row.actor,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    sourceAddress: row.source_address,
    prevHash: row.prev_hash,
    hash: row.hash,
    hashAlg: row.hash_alg,
  };
}

const COLUMNS =
  'site_number, seq, audit_id, occurred_at, actor, action, target, outcome, source_address, prev_hash, hash, hash_alg';

/** The only SQL on `audit_entries`; every method takes the site number. */
export class AuditRepository {
  /**
   * Serialises appends to one site's chain for the rest of the transaction and returns its head
   * (the last sequence number and hash).
   */
  async lockHead(tx: EntityManager, siteNumber: string): Promise<{ seq: number; hash: string }> {
    const s = schemaOf(tx.connection);
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`${s}.audit.${siteNumber}`]);
    const rows: { seq: string; hash: string }[] = await tx.query(
      `SELECT seq, hash FROM "${s}".audit_entries WHERE site_number = $1 ORDER BY seq DESC LIMIT 1`,
      [siteNumber],
    );
    const head = rows[0];
    return head ? { seq: Number(head.seq), hash: head.hash } : { seq: 0, hash: GENESIS_HASH };
  }

  /** The site's head without locking the chain (the anchorer reads it in its snapshot). */
  async head(tx: EntityManager, siteNumber: string): Promise<{ seq: number; hash: string }> {
    const s = schemaOf(tx.connection);
    const rows: { seq: string; hash: string }[] = await tx.query(
      `SELECT seq, hash FROM "${s}".audit_entries WHERE site_number = $1 ORDER BY seq DESC LIMIT 1`,
      [siteNumber],
    );
    const head = rows[0];
    return head ? { seq: Number(head.seq), hash: head.hash } : { seq: 0, hash: GENESIS_HASH };
  }

  async exists(tx: EntityManager, siteNumber: string, auditId: string): Promise<boolean> {
    const s = schemaOf(tx.connection);
    const rows: unknown[] = await tx.query(
      `SELECT 1 FROM "${s}".audit_entries WHERE site_number = $1 AND audit_id = $2`,
      [siteNumber, auditId],
    );
    return rows.length > 0;
  }

  async append(tx: EntityManager, entry: ChainedEntry): Promise<void> {
    const s = schemaOf(tx.connection);
    await tx.query(
      `INSERT INTO "${s}".audit_entries (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        entry.siteNumber,
        entry.seq,
        entry.auditId,
        entry.occurredAt,
        entry.actor,
        entry.action,
        entry.target,
        entry.outcome,
        entry.sourceAddress,
        entry.prevHash,
        entry.hash,
        entry.hashAlg,
      ],
    );
  }

  /** The head (last sequence number and hash) of every site's chain: what the anchorer publishes. */
  async headsAcrossSites(tx: EntityManager): Promise<{ siteNumber: string; seq: number; hash: string }[]> {
    const s = schemaOf(tx.connection);
    const rows: { site_number: string; seq: string; hash: string }[] = await tx.query(
      `SELECT DISTINCT ON (site_number) site_number, seq, hash FROM "${s}".audit_entries
        ORDER BY site_number, seq DESC`,
    );
    return rows.map((r) => ({ siteNumber: r.site_number, seq: Number(r.seq), hash: r.hash }));
  }

  /** The site's first keyed entry (its sequence number), or null when none is keyed yet. */
  async firstKeyed(tx: EntityManager, siteNumber: string): Promise<number | null> {
    const s = schemaOf(tx.connection);
    const rows: { seq: string }[] = await tx.query(
      `SELECT min(seq) AS seq FROM "${s}".audit_entries WHERE site_number = $1 AND hash_alg = 'hmac-sha256'`,
      [siteNumber],
    );
    const seq = rows[0]?.seq;
    return seq === null || seq === undefined ? null : Number(seq);
  }

  /** The hash of one entry, or null when the site has no such entry. */
  async hashAt(tx: EntityManager, siteNumber: string, seq: number): Promise<string | null> {
    const s = schemaOf(tx.connection);
    const rows: { hash: string }[] = await tx.query(
      `SELECT hash FROM "${s}".audit_entries WHERE site_number = $1 AND seq = $2`,
      [siteNumber, seq],
    );
    return rows[0]?.hash ?? null;
  }

  /** Takes the site's anchoring lock for the transaction if free (one replica anchors a site at a time). */
  async tryLockAnchoring(tx: EntityManager, siteNumber: string): Promise<boolean> {
    const s = schemaOf(tx.connection);
    const rows: { locked: boolean }[] = await tx.query(
      `SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked`,
      [`${s}.audit-anchor.${siteNumber}`],
    );
    return rows[0]?.locked === true;
  }

  async query(tx: EntityManager, siteNumber: string, q: AuditQuery): Promise<ChainedEntry[]> {
    const s = schemaOf(tx.connection);
    const where = ['site_number = $1'];
    const params: unknown[] = [siteNumber];
    const add = (clause: string, value: unknown): void => {
      params.push(value);
      where.push(clause.replace('?', `$${params.length}`));
    };
    if (q.from) add('occurred_at >= ?', q.from);
    if (q.to) add('occurred_at < ?', q.to);
    if (q.actor) add('actor = ?', q.actor);
    if (q.action) add('action = ?', q.action);
    params.push(q.limit);
    const rows: Row[] = await tx.query(
      `SELECT ${COLUMNS} FROM "${s}".audit_entries WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${params.length}`,
      params,
    );
    return rows.map(toEntry);
  }

  /** A site's chain in order (after `afterSeq`, default the whole chain), page by page (bounded memory). */
  async *chain(
    tx: EntityManager,
    siteNumber: string,
    afterSeq = 0,
    pageSize = 1000,
  ): AsyncGenerator<ChainedEntry> {
    const s = schemaOf(tx.connection);
    let after = afterSeq;
    for (;;) {
      const rows: Row[] = await tx.query(
        `SELECT ${COLUMNS} FROM "${s}".audit_entries WHERE site_number = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
        [siteNumber, after, pageSize],
      );
      for (const row of rows) yield toEntry(row);
      if (rows.length < pageSize) return;
      after = Number(rows[rows.length - 1]?.seq);
    }
  }
}
