// TLS on the internal hops, on the real local stack: the vault service answering HTTPS with a
// certificate from a throwaway CA (a caller trusting that CA through NODE_EXTRA_CA_CERTS gets
// through, others do not) while its own Postgres connections run under verify-full; another CA
// or another host name for Postgres ends start-up at once with one clear line; and the notifier,
// told to require TLS, refuses to send to the local mail sink, which offers no STARTTLS.
import { Events, PRODUCT_EVENTS } from '@cloud-connect/contracts';
import { createKafka, EventPublisher, EventRegistry } from '@cloud-connect/kafka';
import {
  appRoleFor,
  freePort,
  MailInbox,
  ServiceProcess,
  serviceEnvFor,
  stackEnv,
  stackStateDir,
  uniqueName,
  waitFor,
} from '@cloud-connect/testing';
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

const env = stackEnv();
const prefix = uniqueName('tls');
const vaultSchema = `${prefix}_vault`;
const schedulerSchema = `${prefix}_scheduler`;
const notifierSchema = `${prefix}_notifier`;
const dir = mkdtempSync(join(tmpdir(), 'cc-tls-'));
/** The local stack's Postgres serves a certificate for "localhost" from this CA (stack.sh). */
const POSTGRES_CA = join(stackStateDir(), 'postgres-tls', 'ca.crt');

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore', timeout: 20000 });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A throwaway CA: its certificate's path (the key stays next to it). */
function makeCa(name: string): string {
  openssl([
    'req',
    '-x509',
    ...EC,
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
  ]);
  return join(dir, `${name}.crt`);
}

/** A server certificate for localhost and 127.0.0.1 signed by `ca`: [certificate, key] paths. */
function makeServerCertificate(ca: string, name: string): [string, string] {
  openssl(['req', ...EC, '-subj', '/CN=localhost', '-keyout', `${name}.key`, '-out', `${name}.csr`]);
  writeFileSync(join(dir, `${name}.ext`), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl([
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  ]);
  return [join(dir, `${name}.crt`), join(dir, `${name}.key`)];
}

function onHost(url: string, host: string): string {
  const parsed = new URL(url);
  parsed.hostname = host;
  return parsed.toString();
}

/**
 * GET `url` with Node's fetch from a separate process that trusts `caFile` the way the services
 * do (NODE_EXTRA_CA_CERTS, added to the public roots); without it, the public roots only.
 */
function fetchFromProcess(url: string, caFile?: string): Promise<{ status?: number; error?: string }> {
  const script = `fetch(process.argv[1]).then(
    (r) => console.log(JSON.stringify({ status: r.status })),
    (e) => console.log(JSON.stringify({ error: String((e.cause && e.cause.code) || e.message) })))`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', script, url],
      {
        env: { PATH: process.env['PATH'] ?? '', ...(caFile ? { NODE_EXTRA_CA_CERTS: caFile } : {}) },
        timeout: 20000,
      },
      (error, stdout) => {
        if (error) return reject(new Error(`the fetching process failed: ${error.message}`));
        resolve(JSON.parse(stdout) as { status?: number; error?: string });
      },
    );
  });
}

/** Status of an HTTPS GET trusting exactly `ca` (this process's own check). */
function httpsStatus(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(ca), timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe('TLS on the internal hops (real Postgres, Vault, Kafka, SMTP sink)', () => {
  /** The database's owner (the suites' schemas, delivery log); `admin` sees every session's TLS. */
  let db: Client;
  let admin: Client;
  const started: ServiceProcess[] = [];
  const removals: (() => Promise<void>)[] = [];

  function start(process: ServiceProcess): ServiceProcess {
    started.push(process.start());
    return process;
  }

  beforeAll(async () => {
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    admin = new Client({ connectionString: env.DATABASE_ADMIN_URL });
    await admin.connect();
  });

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
    for (const remove of removals) await remove();
    for (const schema of [vaultSchema, schedulerSchema, notifierSchema])
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await Promise.all([db.end(), admin.end()]);
  });

  it('the vault service answers HTTPS only; callers trusting its CA get through, others fail; a renewed certificate is served; its Postgres runs verify-full', async () => {
    makeCa('internal-ca');
    const otherCa = makeCa('other-ca');
    const [cert, key] = makeServerCertificate('internal-ca', 'vault');
    const approle = await appRoleFor(env, 'vault-service', `tls-vault-${prefix}`, { tokenTtl: '60s' });
    removals.push(approle.remove);
    const base = serviceEnvFor('vault', env, { DATABASE_SCHEMA: vaultSchema, ...approle.env });
    const port = await freePort();
    const vault = start(
      new ServiceProcess('vault', port, {
        ...base,
        // Postgres by the name its certificate carries, checked against the stack's CA.
        DATABASE_URL: onHost(base['DATABASE_URL'] ?? '', 'localhost'),
        ...(base['DATABASE_MIGRATION_URL']
          ? { DATABASE_MIGRATION_URL: onHost(base['DATABASE_MIGRATION_URL'], 'localhost') }
          : {}),
        DATABASE_SSL_MODE: 'verify-full',
        DATABASE_CA_FILE: POSTGRES_CA,
        TLS_CERT_FILE: cert,
        TLS_KEY_FILE: key,
      }),
    );
    const ca = join(dir, 'internal-ca.crt');
    await waitFor(
      'the vault service ready over HTTPS',
      async () => {
        if (vault.stderr.includes('start-up failed')) throw new Error(vault.stderr.slice(-500));
        return (await httpsStatus(`https://localhost:${port}/health/ready`, ca).catch(() => 0)) === 200;
      },
      { timeoutMs: 90000, intervalMs: 500 },
    );

    // Every connection of the service's role to Postgres is TLS.
    const { rows } = await admin.query<{ ssl: boolean }>(
      `SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
        WHERE a.application_name = 'vault' AND a.usename = $1`,
      [new URL(base['DATABASE_URL'] ?? '').username],
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.ssl)).toBe(true);

    // A caller trusting the CA (as NODE_EXTRA_CA_CERTS, what the chart sets) gets through, by
    // name or by address; one trusting only the public roots, or another CA, does not.
    expect(await fetchFromProcess(`https://localhost:${port}/health/ready`, ca)).toEqual({ status: 200 });
    expect(await fetchFromProcess(`https://127.0.0.1:${port}/.well-known/jwks.json`, ca)).toEqual({
      status: 200,
    });
    expect(await fetchFromProcess(`https://localhost:${port}/health/ready`)).toEqual({
      error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    expect(await fetchFromProcess(`https://localhost:${port}/health/ready`, otherCa)).toEqual({
      error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    // A renewed certificate (here from the other CA) is served without a restart.
    const [renewedCert, renewedKey] = makeServerCertificate('other-ca', 'vault-renewed');
    writeFileSync(key, readFileSync(renewedKey));
    writeFileSync(cert, readFileSync(renewedCert));
    await waitFor(
      'the renewed certificate to be served',
      async () => (await fetchFromProcess(`https://localhost:${port}/health/ready`, otherCa)).status === 200,
      { timeoutMs: 45000, intervalMs: 1000 },
    );
    expect(await fetchFromProcess(`https://localhost:${port}/health/ready`, ca)).toEqual({
      error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    expect(readFileSync(vault.logFile, 'utf8')).toContain('TLS certificate reloaded');
    // Plain HTTP is not answered at all.
    await expect(
      fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(5000) }),
    ).rejects.toThrow();
  }, 180000);

  it('Postgres under verify-full: another CA, or a host name the certificate does not carry, stops start-up with one clear line', async () => {
    const wrongCa = makeCa('not-postgres-ca');
    const base = serviceEnvFor('scheduler', env, { DATABASE_SCHEMA: schedulerSchema });
    const passwords = [base['DATABASE_URL'], base['DATABASE_MIGRATION_URL']]
      .filter((url): url is string => Boolean(url))
      .map((url) => decodeURIComponent(new URL(url).password));
    const attempts: { env: Record<string, string>; expected: string }[] = [
      {
        // The right host name, a CA that did not sign the server's certificate.
        env: {
          DATABASE_URL: onHost(base['DATABASE_URL'] ?? '', 'localhost'),
          ...(base['DATABASE_MIGRATION_URL']
            ? { DATABASE_MIGRATION_URL: onHost(base['DATABASE_MIGRATION_URL'], 'localhost') }
            : {}),
          DATABASE_CA_FILE: wrongCa,
        },
        expected: "TLS to Postgres failed: the server's certificate is not signed by a trusted CA",
      },
      {
        // The right CA, an address the certificate (DNS:localhost only) does not name.
        env: { DATABASE_SSL_MODE: 'verify-full', DATABASE_CA_FILE: POSTGRES_CA },
        expected: "TLS to Postgres failed: the server's certificate does not name the host of the URL",
      },
    ];
    for (const attempt of attempts) {
      const scheduler = start(new ServiceProcess('scheduler', await freePort(), { ...base, ...attempt.env }));
      const began = Date.now();
      expect(await scheduler.exited(60000)).not.toBe(0);
      // At once, not after the 30 s of retries an unreachable database gets.
      expect(Date.now() - began).toBeLessThan(25000);
      expect(scheduler.stderr).toContain(attempt.expected);
      for (const password of passwords) expect(scheduler.stderr).not.toContain(password);
    }
  }, 180000);

  it('a certificate without its key is refused by the configuration check', async () => {
    const [cert] = makeServerCertificate('internal-ca', 'lonely');
    const scheduler = start(
      new ServiceProcess(
        'scheduler',
        await freePort(),
        serviceEnvFor('scheduler', env, { DATABASE_SCHEMA: schedulerSchema, TLS_CERT_FILE: cert }),
      ),
    );
    expect(await scheduler.exited(30000)).toBe(78);
    expect(scheduler.stderr).toContain('TLS_KEY_FILE is not set (required when TLS_CERT_FILE is set)');
  }, 60000);

  it('SMTP_REQUIRE_TLS: no STARTTLS offered, no mail sent; the delivery log keeps a category and code only', async () => {
    const registry = new EventRegistry(PRODUCT_EVENTS);
    const kafka = createKafka({ brokers: env.KAFKA_BROKERS.split(','), clientId: `${prefix}-probe` });
    const inbox = new MailInbox(env.MAIL_API_URL);
    const notifier = start(
      new ServiceProcess(
        'notifier',
        await freePort(),
        serviceEnvFor('notifier', env, {
          DATABASE_SCHEMA: notifierSchema,
          SMTP_REQUIRE_TLS: 'true',
          NOTIFY_MAX_ATTEMPTS: '1',
        }),
      ),
    );
    // Readiness names the mail server as the problem; the rest of the service runs.
    const readiness = await waitFor(
      'the notifier to report its SMTP check',
      async () => {
        if (notifier.stderr.includes('start-up failed')) throw new Error(notifier.stderr.slice(-500));
        const answer = await notifier.readiness().catch(() => undefined);
        return answer?.body.checks['postgres'] === 'up' && answer.body.checks['smtp'] ? answer : undefined;
      },
      { timeoutMs: 90000, intervalMs: 500 },
    );
    expect(readiness.status).toBe(503);
    expect(readiness.body.checks['smtp']).toBe('down');

    const publisher = new EventPublisher(kafka, registry, 'vault');
    await publisher.connect();
    const site = String(600000000 + Math.floor(Math.random() * 99999999));
    const notificationId = randomUUID();
    const to = `tls-${site}@test.ca`;
    try {
      await publisher.publish(
        registry.create(Events.notificationRequested, site, {
          notificationId,
          channel: 'email',
          template: 'sek.accessed',
          locale: 'en',
          recipient: to,
          params: {
            siteNumber: site,
            siteName: 'TLS Clinic',
            actor: 'marie@test.ca',
            action: 'view',
            outcome: 'allowed',
            at: new Date().toISOString(),
            from: '203.0.113.9',
          },
        } as never),
      );
    } finally {
      await publisher.disconnect();
    }
    const row = await waitFor(
      'the failed delivery',
      async () => {
        const { rows } = await db.query<{ status: string; last_error: string | null }>(
          `SELECT status, last_error FROM "${notifierSchema}".deliveries WHERE notification_id = $1`,
          [notificationId],
        );
        return rows[0]?.last_error ? rows[0] : undefined;
      },
      { timeoutMs: 60000, intervalMs: 500 },
    );
    // Category and code in the product's words, never the server's reply or the driver's text.
    expect(row.last_error).toMatch(
      /^smtp\/tls-required: the SMTP server did not upgrade the connection to TLS \(error id [0-9a-f-]{36}\)$/,
    );
    expect(row.last_error).not.toMatch(/STARTTLS|command/i);
    expect(row.status).not.toBe('sent');
    expect(await inbox.list(to)).toEqual([]);
  }, 180000);
});
