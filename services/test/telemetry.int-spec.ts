// OpenTelemetry end to end: two services export to a real OTLP/HTTP receiver on loopback; an
// HTTP request, its Postgres queries, the Kafka produce of the event it caused and the Kafka
// consume in another service must all arrive as spans.
import {
  freePort,
  ServiceProcess,
  serviceEnvFor,
  stackEnv,
  uniqueName,
  waitFor,
  TestCli,
} from '@cloud-connect/testing';
import { createServer, type Server } from 'node:http';
import { Client } from 'pg';

interface ExportedSpan {
  service: string;
  name: string;
  kind: number;
  traceId: string;
  parentSpanId: string;
  attributes: Record<string, unknown>;
}

const env = stackEnv();
const prefix = `${uniqueName('otel')}_`;

function collector(): { server: Server; spans: ExportedSpan[]; contentTypes: Set<string> } {
  const spans: ExportedSpan[] = [];
  const contentTypes = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      contentTypes.add(String(req.headers['content-type']));
      if (req.url === '/v1/traces' && String(req.headers['content-type']).includes('json')) {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as {
          resourceSpans: {
            resource: { attributes: { key: string; value: { stringValue?: string } }[] };
            scopeSpans: {
              spans: {
                name: string;
                kind: number;
                traceId: string;
                parentSpanId?: string;
                attributes: { key: string; value: Record<string, unknown> }[];
              }[];
            }[];
          }[];
        };
        for (const rs of body.resourceSpans) {
          const service =
            rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              spans.push({
                service,
                name: s.name,
                kind: s.kind,
                traceId: s.traceId,
                parentSpanId: s.parentSpanId ?? '',
                attributes: Object.fromEntries(s.attributes.map((a) => [a.key, Object.values(a.value)[0]])),
              });
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return { server, spans, contentTypes };
}

describe('OpenTelemetry traces over OTLP (real services, Postgres and Kafka)', () => {
  const { server, spans, contentTypes } = collector();
  let vault: ServiceProcess;
  let scheduler: ServiceProcess;

  beforeAll(async () => {
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    // Every trace recorded (the default samples 10 %), so each kind of span is sure to arrive.
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_BSP_SCHEDULE_DELAY: '200',
      TRACE_SAMPLE_RATIO: '1',
    };
    vault = new ServiceProcess(
      'vault',
      await freePort(),
      serviceEnvFor('vault', env, { ...otel, DATABASE_SCHEMA: `${prefix}vault` }),
    ).start();
    scheduler = new ServiceProcess(
      'scheduler',
      await freePort(),
      serviceEnvFor('scheduler', env, { ...otel, DATABASE_SCHEMA: `${prefix}scheduler` }),
    ).start();
    await Promise.all([vault.waitReady(), scheduler.waitReady()]);
  });

  afterAll(async () => {
    await Promise.all([vault.stop(), scheduler.stop()]);
    server.close();
    const db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    for (const s of ['vault', 'scheduler']) await db.query(`DROP SCHEMA IF EXISTS "${prefix}${s}" CASCADE`);
    await db.end();
  });

  it('exports HTTP, Postgres, Kafka produce and Kafka consume spans', async () => {
    // HTTP in (and its Postgres queries): a refused sign-in.
    await fetch(`${vault.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"email":"x@y.ca","password":"nope"}',
    });
    // An event: a site registered in vault's schema is produced by its relay and consumed by the scheduler.
    const number = String(100000000 + Math.floor(Math.random() * 899999999));
    const created = await new TestCli(vault.url).run([
      'site',
      'create',
      '--number',
      number,
      '--name',
      'Traced',
      '--admin-email',
      'a@b.ca',
    ]);
    if (created.code !== 0) throw new Error(`site create failed: ${created.stderr}`);

    const has = (service: string, predicate: (s: ExportedSpan) => boolean) =>
      spans.some((s) => s.service === service && predicate(s));
    await waitFor(
      'http, pg, kafka produce and kafka consume spans',
      () =>
        has('vault', (s) => s.kind === 2 && JSON.stringify(s.attributes).includes('/auth/login')) &&
        has(
          'vault',
          (s) =>
            s.kind === 3 &&
            /pg|postgres/i.test(
              `${s.name} ${JSON.stringify(s.attributes['db.system'] ?? s.attributes['db.system.name'] ?? '')}`,
            ),
        ) &&
        has('vault', (s) => s.kind === 4 && s.name.includes('site.registered')) &&
        has('scheduler', (s) => s.kind === 5 && s.name.includes('site.registered')),
      { timeoutMs: 30000, intervalMs: 250 },
    ).catch((error: unknown) => {
      throw new Error(
        `${(error as Error).message}; received content types ${[...contentTypes].join(', ')}; spans: ${[...new Set(spans.map((s) => `${s.service}:${s.kind}:${s.name}`))].join(', ')}`,
      );
    });

    // Context propagates through Kafka headers: the consume span continues the produce span's trace.
    // (The scheduler may first consume site.registered messages other suites left on the shared
    // topic, whose produce spans this collector never saw: wait, bounded, for this site's.)
    const linked = (): boolean => {
      const produced = spans.filter(
        (s) => s.service === 'vault' && s.kind === 4 && s.name.includes('site.registered'),
      );
      const consumed = spans.filter(
        (s) => s.service === 'scheduler' && s.kind === 5 && s.name.includes('site.registered'),
      );
      return consumed.some((c) => produced.some((p) => p.traceId === c.traceId));
    };
    await waitFor('a consume span in the trace of a produce span', () => linked(), {
      timeoutMs: 30000,
      intervalMs: 250,
    }).catch(() => undefined);
    expect(linked()).toBe(true);
  });
});
