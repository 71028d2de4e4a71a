import { BoundedTtlCache } from './bounded-cache';

describe('bounded TTL cache', () => {
  it('evicts the least recently used beyond its size and calls onEvict', () => {
    const evicted: number[] = [];
    const cache = new BoundedTtlCache<number>(2, 1000, (v) => evicted.push(v));
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(evicted).toEqual([2]);
    expect(cache.size).toBe(2);
  });

  it('expires entries after the TTL', () => {
    let now = 0;
    const cache = new BoundedTtlCache<string>(10, 100, undefined, () => now);
    cache.set('k', 'v');
    now = 99;
    expect(cache.get('k')).toBe('v');
    now = 200;
    expect(cache.get('k')).toBeUndefined();
  });

  it('drops entries by predicate', () => {
    const cache = new BoundedTtlCache<string>(10, 1000);
    cache.set('1:a', 'x');
    cache.set('2:a', 'y');
    cache.deleteWhere((k) => k.startsWith('1:'));
    expect(cache.get('1:a')).toBeUndefined();
    expect(cache.get('2:a')).toBe('y');
  });
});

describe('bounded TTL cache sweep', () => {
  it('evicts expired entries without being read', () => {
    let now = 0;
    const evicted: string[] = [];
    const cache = new BoundedTtlCache<string>(
      10,
      100,
      (v) => evicted.push(v),
      () => now,
    );
    cache.set('a', 'x');
    now = 50;
    cache.set('b', 'y');
    now = 120;
    cache.sweep();
    expect(evicted).toEqual(['x']);
    expect(cache.size).toBe(1);
  });
});
