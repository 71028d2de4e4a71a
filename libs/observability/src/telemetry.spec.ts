import { context, SpanKind, SpanStatusCode, trace, TraceFlags, type Tracer } from '@opentelemetry/api';
import { InMemorySpanExporter, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { telemetrySettings, tracePipeline } from './telemetry';
import { stripQueryStrings } from './trace-sampling';

/** A tracer provider with the services' pipeline, exporting into memory instead of OTLP. */
function pipeline(env: NodeJS.ProcessEnv): {
  tracer: Tracer;
  exported: () => Promise<ReadableSpan[]>;
} {
  const memory = new InMemorySpanExporter();
  const settings = telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', ...env });
  const provider = new TracerProvider(tracePipeline(settings, () => memory));
  return {
    tracer: provider.getTracer('test'),
    exported: async () => {
      await provider.forceFlush();
      return memory.getFinishedSpans();
    },
  };
}

/** An inbound request's server span as the HTTP instrumentation starts it (query included). */
function serverSpan(tracer: Tracer, path: string): ReturnType<Tracer['startSpan']> {
  return tracer.startSpan(`GET ${path}`, {
    kind: SpanKind.SERVER,
    attributes: {
      'http.request.method': 'GET',
      'url.path': path.split('?')[0] ?? path,
      'url.query': path.split('?')[1] ?? '',
      'url.full': `http://127.0.0.1:3001${path}`,
      'http.target': path,
    },
  });
}

describe('tracing pipeline', () => {
  it('exports no query string: span names, url.full and http.target are cut at "?", url.query is dropped', async () => {
    const { tracer, exported } = pipeline({ TRACE_SAMPLE_RATIO: '1' });
    const span = serverSpan(tracer, '/fhir/ServiceRequest?identifier=https://hc|9876543217&_count=5#x');
    span.setAttribute('http.response.status_code', 200);
    span.end();
    const spans = await exported();
    expect(spans).toHaveLength(1);
    const text = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes })));
    expect(text).not.toMatch(/identifier|9876543217|_count|\?|#x/);
    expect(spans[0]?.name).toBe('GET /fhir/ServiceRequest');
    expect(spans[0]?.attributes['url.full']).toBe('http://127.0.0.1:3001/fhir/ServiceRequest');
    expect(spans[0]?.attributes['url.path']).toBe('/fhir/ServiceRequest');
    expect(spans[0]?.attributes).not.toHaveProperty('url.query');
  });

  it('an outgoing call whose URL carries a key loses the query too; a span without one is passed as is', () => {
    const provider = new TracerProvider({ spanProcessors: [] });
    const span = provider.getTracer('t').startSpan('POST', {
      kind: SpanKind.CLIENT,
      attributes: { 'url.full': 'https://chr.example/hook?api_key=s3cret', 'server.port': 443 },
    });
    span.end();
    const readable = span as unknown as ReadableSpan;
    const stripped = stripQueryStrings(readable);
    expect(stripped.attributes['url.full']).toBe('https://chr.example/hook');
    expect(stripped.attributes['server.port']).toBe(443);
    expect(readable.attributes['url.full']).toContain('s3cret'); // the SDK's span is not changed
    const clean = provider
      .getTracer('t')
      .startSpan('SELECT', { attributes: { 'db.system.name': 'postgresql' } });
    clean.end();
    expect(stripQueryStrings(clean as unknown as ReadableSpan)).toBe(clean);
  });

  it('ratio 0: a fast, successful request is not exported, a failing or slow one is (its server span alone)', async () => {
    const { tracer, exported } = pipeline({ TRACE_SAMPLE_RATIO: '0', TRACE_KEEP_SLOW_MS: '50' });
    const fast = serverSpan(tracer, '/public/ocean/fhir_bundles');
    // Children of an unsampled request are not recorded at all (Postgres, Kafka, outgoing HTTP).
    const child = tracer.startSpan('pg.query', {}, trace.setSpan(context.active(), fast));
    expect(child.isRecording()).toBe(false);
    child.end();
    fast.setAttribute('http.response.status_code', 200);
    fast.end();

    const failed = serverSpan(tracer, '/public/ocean/fhir_bundles');
    failed.setAttribute('http.response.status_code', 503);
    failed.setStatus({ code: SpanStatusCode.ERROR });
    failed.end();

    const slow = serverSpan(tracer, '/fhir/metadata');
    slow.setAttribute('http.response.status_code', 200);
    const started = Date.now();
    slow.end(started + 80);

    const spans = await exported();
    expect(spans.map((s) => s.attributes['http.response.status_code'])).toEqual([503, 200]);
    expect(spans.map((s) => s.name)).toEqual(['GET /public/ocean/fhir_bundles', 'GET /fhir/metadata']);
    for (const s of spans) expect(s.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(TraceFlags.SAMPLED);
  });

  it('ratio 1: a request and its children are exported; a caller that sampled decides for us', async () => {
    const { tracer, exported } = pipeline({ TRACE_SAMPLE_RATIO: '1' });
    const root = serverSpan(tracer, '/public/ocean/fhir_bundles');
    tracer.startSpan('pg.query', { kind: SpanKind.CLIENT }, trace.setSpan(context.active(), root)).end();
    root.end();
    expect(await exported()).toHaveLength(2);

    const none = pipeline({ TRACE_SAMPLE_RATIO: '0', TRACE_KEEP_SLOW_MS: '0' });
    const remote = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    none.tracer.startSpan('kafka consume', { kind: SpanKind.CONSUMER }, remote).end();
    none.tracer.startSpan('GET', { kind: SpanKind.SERVER }).end();
    const spans = await none.exported();
    expect(spans.map((s) => s.name)).toEqual(['kafka consume']);
  });

  it('without an endpoint nothing is recorded, but spans still carry ids to propagate', () => {
    const provider = new TracerProvider(tracePipeline(telemetrySettings({})));
    const span = provider.getTracer('t').startSpan('GET', { kind: SpanKind.SERVER });
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(span.spanContext().traceId).not.toBe('00000000000000000000000000000000');
    span.end();
  });

  it('refuses a bad setting by name, and takes the defaults', () => {
    expect(() => telemetrySettings({ TRACE_SAMPLE_RATIO: '2' })).toThrow(/TRACE_SAMPLE_RATIO/);
    expect(() => telemetrySettings({ TRACE_POSTGRES: 'maybe' })).toThrow(/TRACE_POSTGRES/);
    expect(() =>
      telemetrySettings({ OTEL_BSP_MAX_QUEUE_SIZE: '10', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '20' }),
    ).toThrow(/OTEL_BSP_MAX_EXPORT_BATCH_SIZE/);
    expect(telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toEqual(
      expect.objectContaining({
        TRACE_SAMPLE_RATIO: 0.1,
        TRACE_KEEP_SLOW_MS: 1000,
        TRACE_POSTGRES: true,
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 512,
      }),
    );
    expect(telemetrySettings({ TRACE_POSTGRES: 'off' }).TRACE_POSTGRES).toBe(false);
  });
});
