import type { Logger } from '@cloud-connect/observability';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { verifyChain } from './audit-chain';
import { AnchorConflictError, type AuditAnchorStore } from './audit-anchor-store';
import { AuditRepository } from './audit.repository';

/** Why an anchor was not moved forward: each is an alert (metric + error log), never an overwrite. */
export type AnchorAlert = 'cas-conflict' | 'behind-anchor' | 'anchor-mismatch' | 'chain-broken';

export type AnchorOutcome = 'anchored' | 'unchanged' | 'busy' | AnchorAlert;

/**
 * Publishes each site's chain head (sequence number + HMAC) to Vault KV v2 every interval, with
 * check-and-set on the version it read: nobody holding only the database can move an anchor, and
 * an anchor that moved under us (someone else wrote it) is reported, not overwritten. Before
 * moving an anchor it checks that the anchored entry still has the anchored hash and verifies the
 * entries added since; a chain that shrank behind its anchor or no longer matches it is reported.
 */
export class AuditAnchorer {
  private readonly entries = new AuditRepository();
  private readonly alerts: Counter<'reason'>;
  private readonly lastRun: Gauge;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** The alert standing per site: raised (metric + log) once when it starts, not at every pass. */
  private readonly standing = new Map<string, AnchorAlert>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly vault: AuditAnchorStore,
    private readonly logger: Logger,
    metrics: Registry,
    private readonly intervalSeconds: number,
  ) {
    this.alerts = new Counter({
      name: 'audit_anchor_alerts_total',
      help: 'Audit anchors not moved forward: cas-conflict, behind-anchor (tail deleted), anchor-mismatch, chain-broken',
      labelNames: ['reason'],
      registers: [metrics],
    });
    this.lastRun = new Gauge({
      name: 'audit_anchor_last_run_timestamp_seconds',
      help: 'When the audit anchorer last finished a pass over every site',
      registers: [metrics],
    });
  }

  start(): void {
    if (this.intervalSeconds <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.anchorAll()
        .then(() => undefined)
        .catch((error: unknown) =>
          this.logger.warn(
            { err: { name: (error as Error).name } },
            'audit anchoring pass failed; next pass retries',
          ),
        )
        .finally(() => (this.running = null));
    }, this.intervalSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass over every site with entries. */
  async anchorAll(): Promise<Record<string, AnchorOutcome>> {
    const outcomes: Record<string, AnchorOutcome> = {};
    for (const head of await this.entries.headsAcrossSites(this.dataSource.manager))
      outcomes[head.siteNumber] = await this.anchorSite(head.siteNumber);
    this.lastRun.setToCurrentTime();
    return outcomes;
  }

  /** Moves the site's anchor to its current head, or reports why it may not. */
  async anchorSite(site: string): Promise<AnchorOutcome> {
    const outcome = await this.dataSource.transaction(
      'REPEATABLE READ',
      async (tx): Promise<AnchorOutcome> => {
        if (!(await this.entries.tryLockAnchoring(tx, site))) return 'busy';
        const anchor = await this.vault.read(site);
        const head = await this.entries.head(tx, site);
        if (anchor) {
          if (head.seq < anchor.seq) return 'behind-anchor';
          if ((await this.entries.hashAt(tx, site, anchor.seq)) !== anchor.hash) return 'anchor-mismatch';
          if (head.seq === anchor.seq) return 'unchanged';
        }
        const key = await this.vault.hmacKey();
        const checked = await verifyChain(this.entries.chain(tx, site, anchor?.seq ?? 0), {
          key,
          anchor,
          ...(anchor ? { after: { seq: anchor.seq, hash: anchor.hash } } : {}),
        });
        if (!checked.ok || checked.headSeq !== head.seq) return 'chain-broken';
        const hmacSince = anchor?.hmacSince ?? (await this.entries.firstKeyed(tx, site));
        try {
          await this.vault.write(site, { seq: head.seq, hash: head.hash, hmacSince }, anchor?.version ?? 0);
        } catch (error) {
          if (error instanceof AnchorConflictError) return 'cas-conflict';
          throw error;
        }
        return 'anchored';
      },
    );
    if (outcome === 'anchored' || outcome === 'unchanged') this.standing.delete(site);
    else if (outcome !== 'busy' && this.standing.get(site) !== outcome) {
      this.standing.set(site, outcome);
      this.alerts.inc({ reason: outcome });
      this.logger.error(
        { site, reason: outcome, chain: this.vault.chain },
        'audit anchor alert: the chain no longer matches its anchor in Vault, or the anchor moved; not overwritten (run audit verify)',
      );
    }
    return outcome;
  }
}
