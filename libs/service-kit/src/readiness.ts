import { Injectable } from '@nestjs/common';

export type ReadinessCheck = () => Promise<boolean>;

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, 'up' | 'down'>;
}

/** Each dependency a service uses registers a check; /health/ready is their conjunction. */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  private draining = false;

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /** Once shutdown starts the service reports not-ready so the load balancer stops sending work. */
  startDraining(): void {
    this.draining = true;
  }

  async report(timeoutMs = 2500): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.checks.entries()].map(async ([name, check]) => {
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
