// The five services as real processes on the real stack: readiness, outages, config errors,
// graceful shutdown, and a site registered by the CLI reaching every service's replica.
import {
  freePort,
  ServiceProcess,
  serviceEnvFor,
  stackCtl,
  stackEnv,
  TestCli,
  uniqueName,
  waitFor,
  type ServiceName,
} from '@cloud-connect/testing';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';

const env = stackEnv();
const NAMES: ServiceName[] = ['referral-intake', 'emr-gateway', 'vault', 'scheduler', 'notifier'];
const SCHEMAS: Record<ServiceName, string> = {
  'referral-intake': 'intake',
  'emr-gateway': 'emr_gateway',
  vault: 'vault',
  scheduler: 'scheduler',
  notifier: 'notifier',
};

// Each run uses its own schemas so it never meets another run's rows.
const schemaPrefix = `${uniqueName('t')}_`;

async function startAll(): Promise<ServiceProcess[]> {
  const services: ServiceProcess[] = [];
  for (const name of NAMES) {
    services.push(
      new ServiceProcess(
        name,
        await freePort(),
        serviceEnvFor(name, env, { DATABASE_SCHEMA: schemaPrefix + SCHEMAS[name] }),
      ).start(),
    );
  }
  await Promise.all(services.map((s) => s.waitReady(90000)));
  return services;
}

describe('the five services on the real stack', () => {
  let services: ServiceProcess[] = [];
  let db: Client;

  beforeAll(async () => {
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    services = await startAll();
  });

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    for (const schema of Object.values(SCHEMAS))
      await db.query(`DROP SCHEMA IF EXISTS "${schemaPrefix}${schema}" CASCADE`);
    await db.end();
  });

  it('each reports ready with the dependencies it uses, and serves /health/live and /metrics', async () => {
    for (const service of services) {
      const { status, body } = await service.readiness();
      expect(status).toBe(200);
      expect(body.checks['postgres']).toBe('up');
      expect(body.checks['kafka']).toBe('up');
      const usesVault = service.name === 'vault' || service.name === 'emr-gateway';
      expect(body.checks['vault']).toBe(usesVault ? 'up' : undefined);
      if (service.name === 'notifier') expect(body.checks['smtp']).toBe('up');
      expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toContain(`process_cpu_seconds_total{service="${service.name}"}`);
      expect(metrics).toContain('outbox_pending_messages');
      // Ready in full: the event consumers have joined (the gauge the consumers alert watches).
      expect(metrics).toContain(`event_consumers_joined{service="${service.name}"} 1`);
      expect(body.checks['consumers']).toBe('up');
    }
  });

  it('registers a site with the CLI and every service learns it through Kafka', async () => {
    const vault = services.find((s) => s.name === 'vault');
    if (!vault) throw new Error('no vault service');
    const operator = new TestCli(vault.url);
    const cli = (args: string[]) => operator.run(args);
    const number = String(100000000 + Math.floor(Math.random() * 899999999));
    const created = await cli([
      'site',
      'create',
      '--number',
      number,
      '--name',
      'Clinique Test',
      '--admin-email',
      'admin@test.ca',
      '--clinical-admin-email',
      'clinique@test.ca',
      '--locale',
      'fr',
    ]);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toEqual({
      site: expect.objectContaining({
        siteNumber: number,
        locale: 'fr',
        clinicalAdminEmail: 'clinique@test.ca',
        timezone: 'America/Toronto',
      }),
    });
    for (const name of NAMES.filter((n) => n !== 'vault')) {
      await waitFor(`${name} replica of site ${number}`, async () => {
        const { rows } = await db.query(
          `SELECT locale FROM "${schemaPrefix}${SCHEMAS[name]}".site_replica WHERE site_number = $1`,
          [number],
        );
        return rows[0]?.locale === 'fr';
      });
    }

    const duplicate = await cli([
      'site',
      'create',
      '--number',
      number,
      '--name',
      'Again',
      '--admin-email',
      'admin@test.ca',
    ]);
    expect(duplicate.code).toBe(1);
    expect(JSON.parse(duplicate.stdout)).toEqual({ error: expect.objectContaining({ code: 'site-exists' }) });

    const malformed = await cli([
      'site',
      'create',
      '--number',
      '12ab',
      '--name',
      'Bad',
      '--admin-email',
      'admin@test.ca',
    ]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('a site number is 1 to 10 digits');
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM "${schemaPrefix}vault".sites WHERE name IN ('Again', 'Bad')`,
    );
    expect(rows[0].n).toBe(0);

    const missing = await cli(['site', 'create', '--name', 'No number']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--number <n>' not specified");
  });

  it('reports not-ready while Kafka is down and ready again when it is back', async () => {
    await stackCtl('stop', 'kafka');
    try {
      for (const service of services) {
        await waitFor(
          `${service.name} not ready without kafka`,
          async () => {
            const { status, body } = await service.readiness();
            return status === 503 && body.checks['kafka'] === 'down';
          },
          { timeoutMs: 30000 },
        );
      }
    } finally {
      await stackCtl('start', 'kafka');
    }
    for (const service of services) await service.waitReady(90000);
  });

  it('reports not-ready while Postgres is down and ready again when it is back', async () => {
    await db.end();
    await stackCtl('stop', 'postgres');
    try {
      for (const service of services) {
        await waitFor(
          `${service.name} not ready without postgres`,
          async () => {
            const { status, body } = await service.readiness();
            return status === 503 && body.checks['postgres'] === 'down';
          },
          { timeoutMs: 30000 },
        );
      }
    } finally {
      await stackCtl('start', 'postgres');
      db = new Client({ connectionString: env.DATABASE_URL });
      await db.connect();
    }
    for (const service of services) await service.waitReady(60000);
  });

  it('shuts down gracefully on SIGTERM: exits 0 after closing its resources', async () => {
    const scheduler = services.find((s) => s.name === 'scheduler')!;
    scheduler.kill('SIGTERM');
    expect(await scheduler.exited(30000)).toBe(0);
    const log = readFileSync(scheduler.logFile, 'utf8');
    expect(log).toContain('shutting down: draining');
    expect(log).toContain('shutdown complete');
  });
});

describe('configuration errors', () => {
  it.each(NAMES)('%s exits non-zero with one line naming the missing variables', async (name) => {
    const service = new ServiceProcess(name, await freePort(), {}).start();
    expect(await service.exited(20000)).toBe(78);
    const lines = service.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${name}: invalid configuration`);
    expect(lines[0]).toContain('DATABASE_URL is required but not set');
    expect(lines[0]).toContain('KAFKA_BROKERS is required but not set');
  });

  it('names an invalid value without printing it', async () => {
    const service = new ServiceProcess('notifier', await freePort(), {
      DATABASE_URL: 'postgres://u:s3cret-pw@127.0.0.1:1/x',
      KAFKA_BROKERS: '127.0.0.1:1',
      SMTP_HOST: 'localhost',
      SMTP_PORT: 'not-a-port',
    }).start();
    expect(await service.exited(20000)).toBe(78);
    expect(service.stderr).toContain('SMTP_PORT is invalid');
    expect(service.stderr).not.toContain('s3cret-pw');
  });
});
