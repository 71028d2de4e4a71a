import { Events } from '@cloud-connect/contracts';
import type { Envelope } from '@cloud-connect/kafka';
import type { DataSource, EntityManager } from 'typeorm';
import { z } from 'zod';
import { entryHmac, verifyChain, type AuditEntry, type ChainedEntry, type VerifyResult } from './audit-chain';
import type { AuditAnchorStore } from './audit-anchor-store';
import { AuditRepository } from './audit.repository';

export const auditQueryInput = z
  .object({
    from: z.iso.datetime({ offset: true, message: 'from must be an ISO 8601 date-time' }).optional(),
    to: z.iso.datetime({ offset: true, message: 'to must be an ISO 8601 date-time' }).optional(),
    actor: z.string().min(1).max(320).optional(),
    action: z.string().min(1).max(100).optional(),
    limit: z.coerce.number().int().min(1).max(10000).default(1000),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();

export type AuditQueryInput = z.input<typeof auditQueryInput>;

export type SiteVerifyResult = { siteNumber: string } & VerifyResult;

/**
 * The tamper-evident audit trail: `audit.recorded` envelopes from every service (the vault
 * service's own entries included, through its outbox) are appended to their site's chain, each
 * link an HMAC-SHA256 under the audit key kept in Vault; the heads are anchored in Vault
 * (AuditAnchorer) and verification compares the chain with the anchor.
 */
export class AuditTrail {
  private readonly entries = new AuditRepository();

  constructor(
    private readonly dataSource: DataSource,
    private readonly vault: AuditAnchorStore,
  ) {}

  /** Appends one envelope inside the consumer's transaction (commits with its dedupe record). */
  async record(envelope: Envelope, tx: EntityManager): Promise<void> {
    if (envelope.type !== Events.auditRecorded.type) return;
    const payload = Events.auditRecorded.schema.parse(envelope.payload);
    const site = envelope.siteId;
    const key = await this.vault.hmacKey();
    const head = await this.entries.lockHead(tx, site);
    // A second copy of the same audit entry (a producer's retry) is not a new event.
    if (await this.entries.exists(tx, site, payload.auditId)) return;
    const entry: AuditEntry = {
      siteNumber: site,
      seq: head.seq + 1,
      auditId: payload.auditId,
      occurredAt: new Date(envelope.occurredAt).toISOString(),
      actor: payload.actor,
      action: payload.action,
      target: payload.target,
      outcome: payload.outcome,
      sourceAddress: payload.sourceAddress ?? null,
    };
    await this.entries.append(tx, {
      ...entry,
      prevHash: head.hash,
      hash: entryHmac(entry, head.hash, key),
      hashAlg: 'hmac-sha256',
    });
  }

  async query(site: string, input: z.output<typeof auditQueryInput>): Promise<ChainedEntry[]> {
    return this.entries.query(this.dataSource.manager, site, {
      from: input.from ? new Date(input.from) : undefined,
      to: input.to ? new Date(input.to) : undefined,
      actor: input.actor,
      action: input.action,
      limit: input.limit,
    });
  }

  /**
   * Recomputes the site's whole chain inside one repeatable-read snapshot and compares it with the
   * site's anchor in Vault (read first: entries appended meanwhile only lengthen the chain).
   */
  async verify(site: string): Promise<SiteVerifyResult> {
    const anchor = await this.vault.read(site);
    const key = await this.vault.hmacKey();
    const result = await this.dataSource.transaction('REPEATABLE READ', (tx) =>
      verifyChain(this.entries.chain(tx, site), { key, anchor }),
    );
    return { siteNumber: site, ...result };
  }

  /** Every site with entries or an anchor (a site whose entries were all deleted still has its anchor). */
  async verifyAll(): Promise<SiteVerifyResult[]> {
    const anchored = await this.vault.anchoredSites();
    const heads = await this.entries.headsAcrossSites(this.dataSource.manager);
    const sites = [...new Set([...heads.map((h) => h.siteNumber), ...anchored])].sort();
    const results: SiteVerifyResult[] = [];
    for (const site of sites) results.push(await this.verify(site));
    return results;
  }
}

const CSV_COLUMNS: (keyof ChainedEntry)[] = [
  'seq',
  'occurredAt',
  'actor',
  'action',
  'target',
  'outcome',
  'sourceAddress',
  'auditId',
  'hash',
];

function csvCell(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  // Quote always; neutralise spreadsheet formulas (CSV injection).
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
}

export function toCsv(entries: ChainedEntry[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const entry of entries) lines.push(CSV_COLUMNS.map((c) => csvCell(entry[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
