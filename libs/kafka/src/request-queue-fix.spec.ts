import {
  installRequestQueueFix,
  kafkaRequestQueueClass,
  scheduleCheckPendingRequests,
  type KafkaRequestQueue,
} from './request-queue-fix';

type Queue = KafkaRequestQueue & { inflight: Map<number, unknown> };
const silent = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

function newQueue(): Queue {
  const RequestQueue = kafkaRequestQueueClass() as unknown as new (options: object) => Queue;
  return new RequestQueue({
    clientId: 'spec',
    broker: '127.0.0.1:9092',
    logger: silent,
    maxInFlightRequests: 1,
    requestTimeout: 30000,
    enforceRequestTimeout: false,
  });
}

/** A request waiting in the queue; `sent` counts the times the queue sent it. */
function waitingRequest(): { sent: number; send(): void; expectResponse: boolean; correlationId: number } {
  return {
    sent: 0,
    expectResponse: true,
    correlationId: 1,
    send() {
      this.sent += 1;
    },
  };
}

/** How many times `checkPendingRequests` runs in `ms` of (fake) time after one call to it. */
function checksIn(queue: Queue, ms: number): number {
  let checks = 0;
  const original = queue.checkPendingRequests.bind(queue);
  queue.checkPendingRequests = () => {
    checks += 1;
    original();
  };
  queue.checkPendingRequests();
  jest.advanceTimersByTime(ms);
  return checks;
}

describe('kafkajs request queue: no timer loop on an idle connection', () => {
  const released = kafkaRequestQueueClass().prototype.scheduleCheckPendingRequests;

  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    jest.clearAllTimers();
    jest.useRealTimers();
  });

  it('kafkajs as released re-checks an empty queue every millisecond (the defect)', () => {
    const queue = newQueue();
    queue.scheduleCheckPendingRequests = released;
    expect(checksIn(queue, 100)).toBeGreaterThanOrEqual(50);
  });

  it('with the fix an empty queue sets no timer at all', () => {
    installRequestQueueFix();
    expect(kafkaRequestQueueClass().prototype.scheduleCheckPendingRequests).toBe(
      scheduleCheckPendingRequests,
    );
    const queue = newQueue();
    expect(checksIn(queue, 100)).toBe(1);
    expect(queue.throttleCheckTimeoutId).toBeNull();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('a request held back by a client-side throttle is sent when the throttle ends, not before', () => {
    installRequestQueueFix();
    const queue = newQueue();
    const request = waitingRequest();
    queue.throttledUntil = Date.now() + 50;
    queue.pending.push(request);
    queue.scheduleCheckPendingRequests();
    jest.advanceTimersByTime(49);
    expect(request.sent).toBe(0);
    jest.advanceTimersByTime(2);
    expect(request.sent).toBe(1);
    expect(queue.pending).toHaveLength(0);
    // nothing left waiting: no further timer
    expect(jest.getTimerCount()).toBe(0);
  });

  it('a waiting request whose throttle has just ended is checked again after 10 ms (kafkajs#1532)', () => {
    installRequestQueueFix();
    const queue = newQueue();
    const request = waitingRequest();
    queue.throttledUntil = Date.now() - 1;
    queue.pending.push(request);
    queue.scheduleCheckPendingRequests();
    jest.advanceTimersByTime(9);
    expect(request.sent).toBe(0);
    jest.advanceTimersByTime(1);
    expect(request.sent).toBe(1);
  });

  it('a request waiting for an in-flight slot is sent when that request completes', () => {
    installRequestQueueFix();
    const queue = newQueue();
    queue.inflight.set(99, { completed: () => undefined });
    const request = waitingRequest();
    queue.pending.push(request);
    queue.scheduleCheckPendingRequests();
    jest.advanceTimersByTime(1000);
    expect(request.sent).toBe(0); // max one in flight: still waiting
    (queue as unknown as { fulfillRequest(r: object): void }).fulfillRequest({
      correlationId: 99,
      payload: Buffer.alloc(0),
      size: 0,
    });
    expect(request.sent).toBe(1);
  });
});
