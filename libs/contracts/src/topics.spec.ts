import { PRODUCT_EVENTS, TOPIC_SPECS, topicSpecsFor } from './index';

describe('topic registry', () => {
  it('gives every main topic its retry tiers and a dead-letter topic', () => {
    expect(topicSpecsFor(['emr.command']).map((t) => t.name)).toEqual([
      'emr.command',
      'emr.command.retry.5s',
      'emr.command.retry.1m',
      'emr.command.retry.10m',
      'emr.command.dlq',
    ]);
  });

  it('has a topic for every event in the catalogue, and unique names', () => {
    const names = TOPIC_SPECS.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const event of PRODUCT_EVENTS) expect(names).toContain(event.topic);
  });
});
