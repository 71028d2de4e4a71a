import { ConcurrencyGate, GateBusyError } from './concurrency-gate';

describe('ConcurrencyGate', () => {
  it('runs at most `concurrency` at once, queues up to `queue`, refuses the rest', async () => {
    const gate = new ConcurrencyGate(2, 1);
    let running = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const work = (): Promise<string> =>
      new Promise<string>((resolve) => {
        running += 1;
        peak = Math.max(peak, running);
        releases.push(() => {
          running -= 1;
          resolve('done');
        });
      });
    const results = [gate.run(work), gate.run(work), gate.run(work)];
    await expect(gate.run(work)).rejects.toBeInstanceOf(GateBusyError);
    for (let i = 0; i < 3; i += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      releases.shift()?.();
    }
    await new Promise((resolve) => setImmediate(resolve));
    releases.shift()?.();
    await expect(Promise.all(results)).resolves.toEqual(['done', 'done', 'done']);
    expect(peak).toBe(2);
  });

  it('frees its slot when the work fails', async () => {
    const gate = new ConcurrencyGate(1, 0);
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run(() => Promise.resolve(1))).resolves.toBe(1);
  });
});
