import { z } from 'zod';
import { defineEvent, EventRegistry, exponentialBackoff, InvalidEnvelopeError } from './index';

const thingHappened = defineEvent(
  'thing.happened',
  1,
  'thing.happened',
  z.object({ count: z.number().int() }),
);
const registry = new EventRegistry([thingHappened]);

describe('EventRegistry', () => {
  it('creates an envelope with every field of the contract', () => {
    const envelope = registry.create(thingHappened, '1234', { count: 2 });
    expect(envelope).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'thing.happened',
      version: 1,
      siteId: '1234',
      occurredAt: expect.any(String),
      payload: { count: 2 },
    });
    expect(registry.topicOf(envelope)).toBe('thing.happened');
  });

  it('refuses a payload that breaks its schema, naming the field', () => {
    expect(() => registry.create(thingHappened, '1234', { count: 1.5 })).toThrow(/payload\.count/);
  });

  it('refuses a bad site id and an unregistered type', () => {
    expect(() => registry.create(thingHappened, 'abc', { count: 1 })).toThrow(/siteId/);
    const other = defineEvent('other', 1, 'other', z.object({}));
    expect(() => registry.create(other, '1', {})).toThrow(/not registered/);
    expect(() =>
      registry.validate({ ...registry.create(thingHappened, '1', { count: 1 }), version: 2 }),
    ).toThrow(/thing.happened@2 is not registered/);
  });

  it('decodes what it encoded and rejects non-JSON and empty values', () => {
    const envelope = registry.create(thingHappened, '42', { count: 3 });
    expect(registry.decode(Buffer.from(JSON.stringify(envelope)))).toEqual(envelope);
    expect(() => registry.decode(Buffer.from('{not json'))).toThrow(InvalidEnvelopeError);
    expect(() => registry.decode(null)).toThrow(/no value/);
  });

  it('accepts a W3C traceparent and rejects a malformed one', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(registry.create(thingHappened, '1', { count: 1 }, { traceparent }).traceparent).toBe(traceparent);
    expect(() => registry.create(thingHappened, '1', { count: 1 }, { traceparent: 'nope' })).toThrow(
      /traceparent/,
    );
  });
});

describe('exponentialBackoff', () => {
  it('grows per attempt, stays within [ceiling/2, ceiling], and is capped', () => {
    const low = exponentialBackoff({ maxAttempts: 5, baseMs: 100, maxMs: 1000, random: () => 0 });
    const high = exponentialBackoff({ maxAttempts: 5, baseMs: 100, maxMs: 1000, random: () => 1 });
    expect([1, 2, 3, 4, 5].map((a) => low.delayMs(a))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((a) => high.delayMs(a))).toEqual([100, 200, 400, 800, 1000]);
  });
});
