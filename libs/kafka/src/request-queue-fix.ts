/**
 * kafkajs 2.2.4 (its latest release) spins on every idle broker connection: once a request
 * completes with nothing queued, `RequestQueue.scheduleCheckPendingRequests` computes a negative
 * delay (`throttledUntil` is -1) and sets a timer anyway; Node fires it after 1 ms, the check
 * finds nothing and schedules itself again. That is a 1 kHz timer loop per connection for the
 * life of the process: a few per cent of a core per idle service, plus Node 24's
 * `TimeoutNegativeWarning` (tulios/kafkajs#1556, #1704, #1751; the fixes in #1667 and #1768 are
 * unreleased).
 *
 * The replacement schedules a check only when there is something to check: requests waiting
 * (then at the end of a client-side throttle, or after the library's 10 ms interval when the
 * throttle has already passed, as the original does for that case, kafkajs#1532). With nothing
 * pending nothing is lost by not checking: `push` sends at once or enqueues and schedules,
 * and every completed or timed-out request runs the check itself.
 */
import { createRequire } from 'node:module';

/** The part of kafkajs's internal RequestQueue this replaces (not in its type declarations). */
export interface KafkaRequestQueue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's own interval for a throttle that has just ended (`CHECK_PENDING_REQUESTS_INTERVAL`). */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

export function scheduleCheckPendingRequests(this: KafkaRequestQueue): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL_MS,
  );
}

type RequestQueueClass = { prototype: KafkaRequestQueue };

/** kafkajs's RequestQueue class, from the copy of kafkajs this process loads. */
export function kafkaRequestQueueClass(): RequestQueueClass {
  const requireFromHere = createRequire(__filename);
  return requireFromHere('kafkajs/src/network/requestQueue/index.js') as RequestQueueClass;
}

let installed = false;

/** Installs the replacement once per process (idempotent). */
export function installRequestQueueFix(): void {
  if (installed) return;
  kafkaRequestQueueClass().prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  installed = true;
}
