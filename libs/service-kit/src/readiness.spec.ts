import { ReadinessRegistry } from './readiness';

describe('ReadinessRegistry', () => {
  const registry = (): ReadinessRegistry => {
    const r = new ReadinessRegistry();
    r.register('postgres', () => Promise.resolve(true));
    r.register('consumers', () => Promise.resolve(false), 'work');
    return r;
  };

  it('serves traffic on the checks HTTP needs, and is ready in full only with its background work', async () => {
    const r = registry();
    expect(await r.report('traffic')).toEqual({ ready: true, checks: { postgres: 'up' } });
    expect(await r.report()).toEqual({ ready: false, checks: { postgres: 'up', consumers: 'down' } });
  });

  it('a check that throws or hangs is down', async () => {
    const r = new ReadinessRegistry();
    r.register('throws', () => Promise.reject(new Error('no')));
    r.register('hangs', () => new Promise<boolean>(() => undefined));
    expect(await r.report('traffic', 50)).toEqual({
      ready: false,
      checks: { throws: 'down', hangs: 'down' },
    });
  });

  it('while draining, neither serves nor is ready', async () => {
    const r = registry();
    r.startDraining();
    expect((await r.report('traffic')).ready).toBe(false);
    expect((await r.report('traffic')).checks['shutdown']).toBe('down');
    expect((await r.report()).ready).toBe(false);
  });
});
