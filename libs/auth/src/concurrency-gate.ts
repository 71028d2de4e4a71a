/** Raised when the gate's queue is full: the caller answers 503 with Retry-After. */
export class GateBusyError extends Error {
  constructor() {
    super('too many concurrent authentication checks; retry shortly');
    this.name = 'GateBusyError';
  }
}

/**
 * Caps concurrent expensive work (an Argon2id verification costs ~19 MiB and tens of ms of CPU):
 * at most `concurrency` run at once, at most `queue` wait; beyond that `run` refuses at once, so
 * a flood of unauthenticated requests cannot exhaust memory or starve the event loop's pool.
 */
export class ConcurrencyGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queue) throw new GateBusyError();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
