import { Injectable } from '@nestjs/common';

export type ReadinessCheck = () => Promise<boolean>;

/**
 * What a check gates: `traffic`, a dependency the service's HTTP answers need (its database, the
 * broker it publishes to, Vault); `work`, one only its background work needs (its event consumers
 * having joined their groups). `/health/serving` answers for traffic, `/health/ready` for both.
 */
export type ReadinessScope = 'traffic' | 'work';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, 'up' | 'down'>;
}

/** Each dependency a service uses registers a check; a report is the conjunction of its scope's. */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, { check: ReadinessCheck; scope: ReadinessScope }>();
  private draining = false;

  register(name: string, check: ReadinessCheck, scope: ReadinessScope = 'traffic'): void {
    this.checks.set(name, { check, scope });
  }

  /** Once shutdown starts the service reports not-ready so the load balancer stops sending work. */
  startDraining(): void {
    this.draining = true;
  }

  /** Every check (`all`), or only those the service's HTTP answers need (`traffic`). */
  async report(scope: 'all' | 'traffic' = 'all', timeoutMs = 2500): Promise<ReadinessReport> {
    const selected = [...this.checks.entries()].filter(([, c]) => scope === 'all' || c.scope === scope);
    const entries = await Promise.all(
      selected.map(async ([name, { check }]) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        });
        const ok = await Promise.race([check().catch(() => false), timeout]);
        clearTimeout(timer);
        return [name, ok ? 'up' : 'down'] as const;
      }),
    );
    const checks = Object.fromEntries(entries) as Record<string, 'up' | 'down'>;
    if (this.draining) checks['shutdown'] = 'down';
    return { ready: Object.values(checks).every((v) => v === 'up'), checks };
  }
}
