import type { Kafka } from 'kafkajs';
import { ReliableConsumer, type ReliableConsumerOptions } from './reliable-consumer';

/**
 * What kafkajs does after a failure it gives up on (`restart: false`) is out of a test's reach on
 * a real broker (it takes the coordinator vanishing past every retry), so this drives the
 * consumer's crash handling with a stand-in for the kafkajs client: each `consumer()` call is a new
 * consumer whose CRASH listener the test can fire.
 */
interface FakeConsumer {
  events: { CRASH: string };
  crash: (restart: boolean) => void;
  connects: number;
  runs: number;
  disconnects: number;
  failConnect: boolean;
}

function fakeKafka(): { kafka: Kafka; consumers: FakeConsumer[] } {
  const consumers: FakeConsumer[] = [];
  const kafka = {
    consumer: () => {
      let listener: ((event: { payload: { error: Error; restart: boolean } }) => void) | undefined;
      const fake: FakeConsumer & Record<string, unknown> = {
        events: { CRASH: 'consumer.crash' },
        connects: 0,
        runs: 0,
        disconnects: 0,
        failConnect: false,
        crash: (restart) => listener?.({ payload: { error: new Error('coordinator not found'), restart } }),
        on: (_event: string, handler: typeof listener) => {
          listener = handler;
        },
        connect: () => {
          fake.connects += 1;
          return fake.failConnect ? Promise.reject(new Error('broker unreachable')) : Promise.resolve();
        },
        subscribe: () => Promise.resolve(),
        run: () => {
          fake.runs += 1;
          return Promise.resolve();
        },
        disconnect: () => {
          fake.disconnects += 1;
          return Promise.resolve();
        },
      };
      consumers.push(fake);
      return fake;
    },
  } as unknown as Kafka;
  return { kafka, consumers };
}

const quietLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function consumerOn(kafka: Kafka): ReliableConsumer<unknown> {
  return new ReliableConsumer({
    kafka,
    groupId: 'test.group',
    topics: ['site.registered'],
    logger: quietLogger,
  } as unknown as ReliableConsumerOptions<unknown>);
}

describe('ReliableConsumer after a crash kafkajs gives up on', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('starts a fresh consumer with backoff, and is running again', async () => {
    const { kafka, consumers } = fakeKafka();
    const consumer = consumerOn(kafka);
    await consumer.start();
    expect(consumer.isRunning).toBe(true);

    consumers[0]!.crash(false);
    expect(consumer.isRunning).toBe(false);
    await jest.advanceTimersByTimeAsync(999);
    expect(consumers).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);

    expect(consumers[0]!.disconnects).toBe(1);
    expect(consumers).toHaveLength(2);
    expect(consumers[1]!.runs).toBe(1);
    expect(consumer.isRunning).toBe(true);
    await consumer.stop();
  });

  it('leaves a crash kafkajs restarts itself alone', async () => {
    const { kafka, consumers } = fakeKafka();
    const consumer = consumerOn(kafka);
    await consumer.start();
    consumers[0]!.crash(true);
    await jest.advanceTimersByTimeAsync(60000);
    expect(consumers).toHaveLength(1);
    expect(consumer.isRunning).toBe(true);
    await consumer.stop();
  });

  it('keeps trying, further apart, while the broker stays away; never after stop', async () => {
    const { kafka, consumers } = fakeKafka();
    const consumer = consumerOn(kafka);
    await consumer.start();
    const original = kafka.consumer.bind(kafka);
    (kafka as unknown as { consumer: () => unknown }).consumer = () => {
      const next = original({ groupId: 'test.group' }) as unknown as FakeConsumer;
      next.failConnect = consumers.length <= 3;
      return next;
    };
    consumers[0]!.crash(false);
    await jest.advanceTimersByTimeAsync(1000); // attempt 1 fails
    expect(consumers).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1999);
    expect(consumers).toHaveLength(2); // the next one waits 2 s
    await jest.advanceTimersByTimeAsync(1); // attempt 2 fails
    await jest.advanceTimersByTimeAsync(4000); // attempt 3 succeeds
    expect(consumers).toHaveLength(4);
    expect(consumer.isRunning).toBe(true);

    consumers[3]!.crash(false);
    await consumer.stop();
    await jest.advanceTimersByTimeAsync(60000);
    expect(consumers).toHaveLength(4);
    expect(consumer.isRunning).toBe(false);
  });
});
