import { diag, DiagLogLevel } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  NoopSpanProcessor,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { z } from 'zod';
import {
  KeepErrorsAndSlowProcessor,
  QueryStrippingExporter,
  RatioOrRecordRootSampler,
} from './trace-sampling';

let sdk: NodeSDK | undefined;

const flag = z
  .enum(['true', 'false', 'on', 'off', '1', '0'])
  .transform((v) => v === 'true' || v === 'on' || v === '1');

/**
 * What the tracing costs and keeps, validated at start-up (a bad value stops the service):
 * - `TRACE_SAMPLE_RATIO` [0.1]: the share of traces started here that are recorded whole and
 *   exported (parent-based: a caller's sampled or unsampled `traceparent` decides for it);
 * - `TRACE_KEEP_SLOW_MS` [1000]: an inbound request outside that share is still exported (its
 *   server span alone) when it failed (5xx, error status) or took longer than this; 0: never;
 * - `TRACE_POSTGRES` [on]: a span per Postgres query, only inside a recorded trace;
 * - the batch exporter's `OTEL_BSP_SCHEDULE_DELAY` [5000] ms, `OTEL_BSP_MAX_QUEUE_SIZE` [2048],
 *   `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` [512], `OTEL_BSP_EXPORT_TIMEOUT` [30000] ms (the standard names).
 */
export const telemetrySettingsSchema = z.object({
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  TRACE_SAMPLE_RATIO: z.coerce.number().min(0).max(1).default(0.1),
  TRACE_KEEP_SLOW_MS: z.coerce.number().int().min(0).default(1000),
  TRACE_POSTGRES: flag.default(true),
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(1).default(5000),
  OTEL_BSP_MAX_QUEUE_SIZE: z.coerce.number().int().min(1).default(2048),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: z.coerce.number().int().min(1).default(512),
  OTEL_BSP_EXPORT_TIMEOUT: z.coerce.number().int().min(1).default(30000),
});
export type TelemetrySettings = z.infer<typeof telemetrySettingsSchema>;

export function telemetrySettings(env: NodeJS.ProcessEnv): TelemetrySettings {
  const parsed = telemetrySettingsSchema.safeParse({
    ...env,
    OTEL_EXPORTER_OTLP_ENDPOINT: env['OTEL_EXPORTER_OTLP_ENDPOINT'] || undefined,
  });
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new Error(`invalid telemetry configuration: ${names}`);
  }
  if (parsed.data.OTEL_BSP_MAX_EXPORT_BATCH_SIZE > parsed.data.OTEL_BSP_MAX_QUEUE_SIZE) {
    throw new Error(
      'invalid telemetry configuration: OTEL_BSP_MAX_EXPORT_BATCH_SIZE exceeds OTEL_BSP_MAX_QUEUE_SIZE',
    );
  }
  return parsed.data;
}

/** Health probes and the metrics scrape make no spans. */
function ignoredIncoming(url: string | undefined): boolean {
  return url === '/metrics' || (url ?? '').startsWith('/health');
}

/**
 * The sampler and span processors of a configuration. Without an endpoint nothing is recorded
 * (every span is a non-recording one that still carries trace and span ids, so `traceparent`
 * keeps propagating); with one, see `telemetrySettingsSchema`. Every exported span goes through
 * `QueryStrippingExporter`: no query string in a span's name or URL attributes.
 */
export function tracePipeline(
  settings: TelemetrySettings,
  exporterFor: (endpoint: string) => ConstructorParameters<typeof QueryStrippingExporter>[0] = (endpoint) =>
    new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }),
): { sampler: Sampler; spanProcessors: SpanProcessor[] } {
  const endpoint = settings.OTEL_EXPORTER_OTLP_ENDPOINT;
  // A provider that records nothing still gives every span fresh ids to propagate.
  if (!endpoint) return { sampler: new AlwaysOffSampler(), spanProcessors: [new NoopSpanProcessor()] };
  const batch = new BatchSpanProcessor({
    exporter: new QueryStrippingExporter(exporterFor(endpoint)),
    scheduledDelayMillis: settings.OTEL_BSP_SCHEDULE_DELAY,
    maxQueueSize: settings.OTEL_BSP_MAX_QUEUE_SIZE,
    maxExportBatchSize: settings.OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
    exportTimeoutMillis: settings.OTEL_BSP_EXPORT_TIMEOUT,
  });
  const keepUnsampledRoots = settings.TRACE_KEEP_SLOW_MS > 0;
  return {
    sampler: new RatioOrRecordRootSampler(settings.TRACE_SAMPLE_RATIO, keepUnsampledRoots),
    spanProcessors: [
      keepUnsampledRoots ? new KeepErrorsAndSlowProcessor(batch, settings.TRACE_KEEP_SLOW_MS) : batch,
    ],
  };
}

/**
 * Starts OpenTelemetry tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set: HTTP in/out, Kafka
 * produce/consume (W3C `traceparent` in message headers and envelopes) and Postgres, sampled and
 * exported over OTLP/HTTP as `tracePipeline` says. Without an endpoint nothing is installed (no
 * instrumentation, no span, no cost on the hot path; envelopes then carry no `traceparent`): set
 * the same endpoint on every service, as the chart does. No OpenTelemetry metrics or logs are
 * exported (metrics are Prometheus', at `/metrics`), so the instrumentations' own histograms cost
 * nothing. Must run before the instrumented modules are loaded: call it first thing in main.
 */
export function startTelemetry(serviceName: string, env: NodeJS.ProcessEnv = process.env): void {
  if (sdk) return;
  const settings = telemetrySettings(env);
  if (!settings.OTEL_EXPORTER_OTLP_ENDPOINT) return;
  diag.setLogger(
    {
      error: () => undefined,
      warn: () => undefined,
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.NONE,
  );
  const instrumentations: (HttpInstrumentation | KafkaJsInstrumentation | PgInstrumentation)[] = [
    // Never record request/response bodies; query strings are stripped before export.
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => ignoredIncoming(req.url),
      redactedQueryParamsServer: [],
      redactedQueryParams: [],
    }),
    new KafkaJsInstrumentation(),
  ];
  if (settings.TRACE_POSTGRES) {
    // Query spans only inside a trace (not for the relay's and pools' own statements).
    instrumentations.push(
      new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true }),
    );
  }
  sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: serviceName,
      [ATTR_SERVICE_VERSION]: env['npm_package_version'] ?? '0.1.0',
    }),
    ...tracePipeline(settings),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations,
  });
  sdk.start();
}

export async function stopTelemetry(): Promise<void> {
  await sdk?.shutdown().catch(() => undefined);
  sdk = undefined;
}
