import { getHeapSpaceStatistics } from 'node:v8';
import { releaseStartupMemory } from './startup-memory';

describe('releaseStartupMemory', () => {
  it('shrinks a young generation that a burst of start-up garbage grew', () => {
    // Start-up parsing in miniature: many short-lived objects, a little kept.
    const kept: unknown[] = [];
    for (let i = 0; i < 300; i += 1) {
      const parsed = JSON.parse(JSON.stringify(Array.from({ length: 2000 }, (_, k) => ({ k, s: `v${k}` }))));
      if (i % 100 === 0) kept.push(parsed);
    }
    const released = releaseStartupMemory();
    const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    expect(released.newSpaceAfter).toBe(newSpace?.space_size);
    expect(released.newSpaceAfter).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(released.rssAfter).toBeGreaterThan(0);
    expect(kept).toHaveLength(3);
  });
});
