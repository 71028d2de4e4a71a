import { readFileSync, type Stats, watchFile } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import { isIP } from 'node:net';
import { readServerTls } from '@cloud-connect/config';
import type { DynamicModule, LoggerService, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  createLogger,
  createMetricsRegistry,
  httpMetrics,
  safeError,
  type Logger,
} from '@cloud-connect/observability';
import { Gauge, type Registry } from 'prom-client';
import { DEFAULT_BODY_LIMIT, drainRefusedBodies, installBodyLimits } from './body-limits';
import { ProblemFilter } from './http-errors';
import { MessagingService } from './messaging.service';
import { ReadinessRegistry } from './readiness';
import { releaseStartupMemory } from './startup-memory';

/** Nest's own log lines (route mapping, lifecycle) through our structured logger. */
class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}

/** The app's MessagingService, if it has one (every service built on CoreModule does). */
function messagingOf(nest: NestFastifyApplication): MessagingService | undefined {
  try {
    return nest.get(MessagingService, { strict: false });
  } catch {
    return undefined;
  }
}

/** The app's readiness checks (CoreModule provides them). */
function readinessOf(nest: NestFastifyApplication): ReadinessRegistry {
  return nest.get(ReadinessRegistry, { strict: false });
}

export interface RunServiceOptions {
  name: string;
  port: number;
  host?: string;
  module: Type<unknown> | DynamicModule;
  logger: Logger;
  metrics: Registry;
  /** Largest request body of a route without its own limit, in bytes (larger: 413; default 64 KiB). */
  bodyLimit?: number;
  shutdownGraceMs: number;
  /** Proxies (addresses or CIDR ranges) whose X-Forwarded-For is believed; none by default. */
  trustedProxies?: string[];
  /** PEM certificate (chain) and private key: the server answers HTTPS only. Absent: HTTP. */
  tls?: { cert: Buffer; key: Buffer } | undefined;
  /** The files `tls` was read from: a renewed certificate (and key) is picked up without a restart. */
  tlsFiles?: { certFile: string; keyFile: string } | undefined;
}

const TLS_RELOAD_CHECK_MS = 10000;

/**
 * Re-reads the certificate and key when the certificate file changes (a renewed Secret) and
 * serves new connections with them; a pair that does not load (half-written, key mismatch) is
 * logged and the current one kept. Checked every 10 s by the files' modification time.
 */
function reloadTlsOnChange(
  server: Pick<HttpsServer, 'setSecureContext'>,
  files: { certFile: string; keyFile: string },
  logger: Logger,
): void {
  const reload = (current: Stats, previous: Stats): void => {
    if (current.mtimeMs === previous.mtimeMs) return;
    try {
      server.setSecureContext({ cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) });
      logger.info('TLS certificate reloaded');
    } catch (error) {
      logger.warn({ error: safeError(error) }, 'TLS certificate not reloaded; keeping the current one');
    }
  };
  watchFile(files.certFile, { interval: TLS_RELOAD_CHECK_MS, persistent: false }, reload);
}

/**
 * `X-Forwarded-For` is only believed from a configured proxy (`trustProxy` with those ranges), and
 * only when every entry is an IP address: a header with anything else in it is dropped, so the
 * client address is always an address (the TCP peer at worst), never attacker-chosen text.
 */
function dropMalformedForwardedFor(headers: Record<string, string | string[] | undefined>): void {
  const value = headers['x-forwarded-for'];
  if (value === undefined) return;
  const entries = (Array.isArray(value) ? value.join(',') : value).split(',').map((e) => e.trim());
  if (entries.length > 32 || !entries.every((entry) => isIP(entry) !== 0)) {
    delete headers['x-forwarded-for'];
  }
}

/**
 * Creates the Nest app on Fastify, wires the error filter and HTTP metrics, listens, and makes
 * SIGTERM/SIGINT graceful: readiness goes false, consumers drain (the in-flight handler finishes
 * and commits), HTTP finishes in-flight
 * requests, the outbox relay and connections close. A watchdog ends a shutdown that hangs.
 */
export async function runService(options: RunServiceOptions): Promise<NestFastifyApplication> {
  const { logger } = options;
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    trustProxy: options.trustedProxies && options.trustedProxies.length > 0 ? options.trustedProxies : false,
    forceCloseConnections: 'idle',
    ...(options.tls
      ? { https: { cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' as const } }
      : {}),
  });
  const app = await NestFactory.create<NestFastifyApplication>(options.module, adapter, {
    logger: new NestPinoLogger(logger),
    abortOnError: false,
  });
  app.useGlobalFilters(new ProblemFilter(logger));
  // Hybrid app: the service's `@EventPattern` consumers run on the Kafka transport of its messaging.
  const messaging = messagingOf(app);
  if (messaging) app.connectMicroservice({ strategy: messaging.transport });

  const { requests } = httpMetrics(options.metrics);
  const fastify = app.getHttpAdapter().getInstance();
  // Before the routes are registered (app.init): `@LargeBody` routes get their limit and their
  // credentials are checked before the body is read.
  installBodyLimits(fastify, app);
  drainRefusedBodies(fastify);
  fastify.addHook('onRequest', (request, _reply, done) => {
    dropMalformedForwardedFor(request.raw.headers);
    done();
  });
  // One labelled child per method, route and status, made once: no label hashing per request
  // (few children: the routes are the registered ones, the methods and statuses a short list).
  const children = new Map<string, ReturnType<typeof requests.labels>>();
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const id = `${request.method} ${reply.statusCode} ${route}`;
    let child = children.get(id);
    if (!child) {
      child = requests.labels({ method: request.method, route, status: String(reply.statusCode) });
      children.set(id, child);
    }
    child.observe(reply.elapsedTime / 1000);
    done();
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'signal received');
      setTimeout(() => {
        logger.error({ graceMs: options.shutdownGraceMs }, 'shutdown took too long; exiting');
        process.exit(1);
      }, options.shutdownGraceMs).unref();
      app
        .close()
        .then(() => {
          logger.flush();
          process.exit(0);
        })
        .catch((error: unknown) => {
          logger.error({ error: (error as Error).name }, 'shutdown failed');
          process.exit(1);
        });
    });
  }

  // Module init (start-up data such as FHIR definitions) first, then give its garbage back.
  await app.init();
  const memory = releaseStartupMemory();
  // The consumers' state is part of /health/ready, not of /health/serving (see below), and a
  // gauge, so that consumers that never join raise an alert although the pod serves.
  let consumersJoined = !messaging;
  if (messaging) {
    readinessOf(app).register('consumers', () => Promise.resolve(consumersJoined), 'work');
    new Gauge({
      name: 'event_consumers_joined',
      help: "1 once the service's event consumers have joined their groups, 0 while they join",
      registers: [options.metrics],
      collect() {
        this.set(consumersJoined ? 1 : 0);
      },
    });
  }
  await app.listen({ port: options.port, host: options.host ?? '0.0.0.0' });
  // With a certificate the server is an https.Server (the adapter's type says http).
  if (options.tls && options.tlsFiles)
    reloadTlsOnChange(fastify.server as unknown as HttpsServer, options.tlsFiles, logger);
  logger.info(
    {
      port: options.port,
      scheme: options.tls ? 'https' : 'http',
      rssMb: Math.round(memory.rssAfter / 1e6),
      rssBeforeMb: Math.round(memory.rssBefore / 1e6),
    },
    `${options.name} listening`,
  );
  // After bootstrap (topics exist, the publisher is connected) the consumers join their groups.
  // HTTP does not wait for them: after a crash a join waits out the dead member's Kafka session
  // (up to 30 s), and the service's answers need none of its consumers. A consumer that cannot
  // start ends the process, as any start-up failure does.
  if (messaging) {
    app.startAllMicroservices().then(
      () => {
        consumersJoined = true;
      },
      (error: unknown) => {
        logger.error({ error: (error as Error).name }, 'event consumers failed to start; exiting');
        logger.flush();
        process.exit(1);
      },
    );
  }
  return app;
}

export interface ServiceContext<C> {
  config: C;
  logger: Logger;
  metrics: Registry;
}

/**
 * The whole of a service's main: validate config (one clear line and exit 78 if wrong), build the
 * logger and metrics, create the root module from them, and run. Telemetry must already have
 * been started by the caller's first import.
 */
export function startService<
  C extends {
    PORT: number;
    LOG_LEVEL: string;
    SHUTDOWN_GRACE_MS: number;
    TRUSTED_PROXIES?: string[];
    TLS_CERT_FILE?: string | undefined;
    TLS_KEY_FILE?: string | undefined;
  },
>(options: {
  name: string;
  loadConfig: () => C;
  module: (context: ServiceContext<C>) => DynamicModule;
  bodyLimit?: (config: C) => number;
  secretHeaders?: string[];
}): void {
  const config = options.loadConfig();
  const logger = createLogger({
    service: options.name,
    level: config.LOG_LEVEL,
    ...(options.secretHeaders ? { secretHeaders: options.secretHeaders } : {}),
  });
  const metrics = createMetricsRegistry(options.name);
  runService({
    name: options.name,
    port: config.PORT,
    module: options.module({ config, logger, metrics }),
    logger,
    metrics,
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    tls: readServerTls(config),
    ...(config.TLS_CERT_FILE && config.TLS_KEY_FILE
      ? { tlsFiles: { certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE } }
      : {}),
    ...(config.TRUSTED_PROXIES ? { trustedProxies: config.TRUSTED_PROXIES } : {}),
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit(config) } : {}),
  }).catch((error: unknown) => {
    logger.fatal({ error: safeError(error) }, 'start-up failed');
    logger.flush();
    process.stderr.write(`${options.name}: start-up failed: ${(error as Error).message}\n`);
    // Non-zero even when nothing else keeps the process alive for the timer below.
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100).unref();
  });
}
