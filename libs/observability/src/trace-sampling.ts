import {
  isSpanContextValid,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type SpanContext,
} from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import {
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SamplingResult,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';

const RECORD_AND_SAMPLE: SamplingResult = { decision: SamplingDecision.RECORD_AND_SAMPLED };
const RECORD_ONLY: SamplingResult = { decision: SamplingDecision.RECORD };
const DROP: SamplingResult = { decision: SamplingDecision.NOT_RECORD };

/**
 * Parent-based ratio sampling with room for keeping failures: a span whose parent is sampled is
 * sampled, one whose local parent is not is not recorded (the Postgres, Kafka and outgoing HTTP
 * spans of an unsampled request cost nothing). A trace that starts here (or an inbound request
 * whose caller did not sample) is sampled by trace id at `ratio`; otherwise an inbound request's
 * server span alone is *recorded* but not sampled, so `KeepErrorsAndSlowProcessor` can still
 * export it when it fails or is slow (when `recordUnsampledServerSpans`).
 */
export class RatioOrRecordRootSampler implements Sampler {
  private readonly ratio: TraceIdRatioBasedSampler;

  constructor(
    ratio: number,
    private readonly recordUnsampledServerSpans: boolean,
  ) {
    this.ratio = new TraceIdRatioBasedSampler(ratio);
  }

  shouldSample(context: Context, traceId: string, _name: string, kind: SpanKind): SamplingResult {
    const parent = trace.getSpanContext(context);
    const hasParent = parent !== undefined && isSpanContextValid(parent);
    if (hasParent && (parent.traceFlags & TraceFlags.SAMPLED) !== 0) return RECORD_AND_SAMPLE;
    if (hasParent && !parent.isRemote) return DROP;
    if (
      !hasParent &&
      this.ratio.shouldSample(context, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED
    ) {
      return RECORD_AND_SAMPLE;
    }
    return this.recordUnsampledServerSpans && kind === SpanKind.SERVER ? RECORD_ONLY : DROP;
  }

  toString(): string {
    return `RatioOrRecordRootSampler{${this.ratio.toString()}}`;
  }
}

function durationMs(span: ReadableSpan): number {
  return span.duration[0] * 1000 + span.duration[1] / 1e6;
}

/** A copy of an ended span with some fields replaced (the SDK's span stays as it is). */
function spanView(
  span: ReadableSpan,
  changes: { name?: string; attributes?: Attributes; spanContext?: SpanContext },
): ReadableSpan {
  const context = changes.spanContext ?? span.spanContext();
  return {
    name: changes.name ?? span.name,
    kind: span.kind,
    spanContext: () => context,
    ...(span.parentSpanContext ? { parentSpanContext: span.parentSpanContext } : {}),
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status,
    attributes: changes.attributes ?? span.attributes,
    links: span.links,
    events: span.events,
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/**
 * The "tail-ish" rule: sampled spans pass to the exporting processor as they are; a recorded but
 * unsampled server span (see `RatioOrRecordRootSampler`) passes, marked sampled, only when it
 * failed (error status or a 5xx answer) or took longer than `slowMs`. Its children were not
 * recorded, so such a trace is the server span alone: enough to find the request, its route,
 * status and duration.
 */
export class KeepErrorsAndSlowProcessor implements SpanProcessor {
  constructor(
    private readonly next: SpanProcessor,
    private readonly slowMs: number,
  ) {}

  onStart(span: Span, parentContext: Context): void {
    this.next.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    const context = span.spanContext();
    if ((context.traceFlags & TraceFlags.SAMPLED) !== 0) {
      this.next.onEnd(span);
      return;
    }
    const status = span.attributes['http.response.status_code'];
    const failed = span.status.code === SpanStatusCode.ERROR || (typeof status === 'number' && status >= 500);
    if (failed || durationMs(span) > this.slowMs) {
      this.next.onEnd(
        spanView(span, { spanContext: { ...context, traceFlags: context.traceFlags | TraceFlags.SAMPLED } }),
      );
    }
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}

/** Attributes that hold a URL or a request target: their query string is cut off before export. */
const URL_ATTRIBUTES = new Set(['url.full', 'url.original', 'http.url', 'http.target', 'url.path']);
/** Attributes that hold only a query string: dropped before export. */
const QUERY_ATTRIBUTES = new Set(['url.query', 'http.query']);

/** `s` up to its first `?` (or `#`): no query value, whatever its parameter's name. */
export function withoutQuery(s: string): string {
  const at = s.search(/[?#]/);
  return at < 0 ? s : s.slice(0, at);
}

/** The span as exported: no query string in its name or in any URL attribute, no query attribute. */
export function stripQueryStrings(span: ReadableSpan): ReadableSpan {
  const name = withoutQuery(span.name);
  let changed = name !== span.name;
  const attributes: Attributes = {};
  for (const [key, value] of Object.entries(span.attributes)) {
    if (QUERY_ATTRIBUTES.has(key)) {
      changed = true;
      continue;
    }
    const cut = typeof value === 'string' && URL_ATTRIBUTES.has(key) ? withoutQuery(value) : value;
    if (cut !== value) changed = true;
    attributes[key] = cut;
  }
  return changed ? spanView(span, { name, attributes }) : span;
}

/**
 * Wraps the real exporter: spans leave the process without query strings, so an `identifier=`
 * search value (a health card number), a key or a token passed in a URL never reaches a trace
 * backend, whichever instrumentation recorded the URL.
 */
export class QueryStrippingExporter implements SpanExporter {
  constructor(private readonly next: SpanExporter) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.next.export(spans.map(stripQueryStrings), resultCallback);
  }

  shutdown(): Promise<void> {
    return this.next.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush?.() ?? Promise.resolve();
  }
}
