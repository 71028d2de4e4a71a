// Imported first by main.ts so instrumentation is in place before http, pg and kafkajs load.
import { startTelemetry } from '@cloud-connect/observability';

startTelemetry('vault');
