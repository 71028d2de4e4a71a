// Attack suite, leaks: a database error and an SMTP failure, each carrying a unique marker in the
// raw text its driver or server produced (a constraint name, an SMTP reply quoting the address),
// must reach logs, Kafka retry headers and the delivery log only as category + code + error id.
import {
  freePort,
  provisionSiteSek,
  readTopic,
  ServiceProcess,
  serviceEnvFor,
  stackEnv,
  testLogDir,
  uniqueName,
  waitFor,
} from '@cloud-connect/testing';
import { Kafka, logLevel } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { startVaultService, type VaultUnderTest } from './support';

const env = stackEnv();
const prefix = uniqueName('atkleak');
const vaultSchema = `${prefix}_vault`;
const notifierSchema = `${prefix}_notifier`;
const site = String(900000000 + Math.floor(Math.random() * 99999999));
const DB_MARKER = `leakmarker_db_${randomBytes(4).toString('hex')}`;
const SMTP_MARKER = `leakmarker-smtp-${randomBytes(4).toString('hex')}`;
const SAFE_TEXT = /^[a-z]+\/[A-Za-z0-9:._-]+(: [^\n]*)? \(error id [0-9a-f-]{36}\)$/;

/** An SMTP server that greets, then answers every RCPT with a temporary failure quoting the marker. */
function refusingSmtp(port: number): Promise<Server> {
  const server = createServer((socket: Socket) => {
    socket.write('220 refusing.test ESMTP\r\n');
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let at: number;
      while ((at = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, at).toUpperCase();
        buffer = buffer.slice(at + 2);
        if (line.startsWith('EHLO') || line.startsWith('HELO')) socket.write('250 refusing.test\r\n');
        else if (line.startsWith('MAIL')) socket.write('250 2.1.0 ok\r\n');
        else if (line.startsWith('RCPT'))
          socket.write(`451 4.3.0 <${SMTP_MARKER}@clinic.test> mailbox of patient busy\r\n`);
        else if (line.startsWith('QUIT')) socket.end('221 bye\r\n');
        else socket.write('503 5.5.1 bad sequence\r\n');
      }
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

function logsContaining(marker: string): string[] {
  return readdirSync(testLogDir())
    .filter((f) => f.endsWith('.log'))
    .filter((f) => readFileSync(join(testLogDir(), f), 'utf8').includes(marker));
}

describe('attack suite: raw error text never leaves a service (logs, Kafka headers, delivery log)', () => {
  let vault: VaultUnderTest;
  let notifier: ServiceProcess;
  let smtp: Server;
  let db: Client;
  const kafka = new Kafka({
    clientId: `${prefix}-probe`,
    brokers: env.KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });

  beforeAll(async () => {
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    const smtpPort = await freePort();
    smtp = await refusingSmtp(smtpPort);
    vault = await startVaultService(env, vaultSchema, `atk-leak-${prefix}`, {
      tokenTtl: '60s',
      tokenMaxTtl: '300s',
    });
    notifier = new ServiceProcess(
      'notifier',
      await freePort(),
      serviceEnvFor('notifier', env, {
        DATABASE_SCHEMA: notifierSchema,
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(smtpPort),
      }),
    ).start();
    await notifier.waitReady(90000);
  }, 240000);

  afterAll(async () => {
    await Promise.all([notifier?.stop(), vault?.service.stop()]);
    await vault?.remove();
    await new Promise((resolve) => smtp?.close(resolve));
    for (const schema of [vaultSchema, notifierSchema])
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
  });

  it('a database error and an SMTP failure reach headers, logs and the delivery log only as category/code/error id', async () => {
    // The audit trail's inserts for this site fail with a constraint whose name is the marker
    // (pg's text: `new row for relation "audit_entries" violates check constraint "<marker>"`).
    await db.query(
      `ALTER TABLE "${vaultSchema}".audit_entries ADD CONSTRAINT ${DB_MARKER} CHECK (site_number <> '${site}') NOT VALID`,
    );
    // Storing a SEK audits (database error) and alerts the creator by e-mail (SMTP failure).
    await provisionSiteSek({ vaultUrl: vault.service.url, site });

    const retried = async (topic: string): Promise<Record<string, string>[]> =>
      (await readTopic(kafka, topic, { expected: 1, timeoutMs: 20000, settleMs: 500 }))
        .filter((m) => m.key === site)
        .map((m) => m.headers);
    const auditHeaders = await waitFor(
      'audit entries retried',
      async () => {
        const found = await retried('audit.recorded.retry.5s');
        return found.some((h) => /^(database\/23514|smtp\/451) /.test(h['cc-last-error'] ?? ''))
          ? found
          : undefined;
      },
      { timeoutMs: 90000, intervalMs: 2000 },
    );
    const mailHeaders = await waitFor(
      'notifications retried',
      async () => {
        const found = await retried('notification.requested.retry.5s');
        return found.some((h) => /^(database\/23514|smtp\/451) /.test(h['cc-last-error'] ?? ''))
          ? found
          : undefined;
      },
      { timeoutMs: 90000, intervalMs: 2000 },
    );
    for (const headers of [...auditHeaders, ...mailHeaders])
      expect(headers['cc-last-error']).toMatch(SAFE_TEXT);
    expect(auditHeaders.some((h) => h['cc-last-error']?.startsWith('database/23514 '))).toBe(true);
    expect(mailHeaders.some((h) => h['cc-last-error']?.startsWith('smtp/451 '))).toBe(true);

    const deliveries = await db.query<{ last_error: string | null }>(
      `SELECT last_error FROM "${notifierSchema}".deliveries WHERE site_number = $1 AND last_error IS NOT NULL`,
      [site],
    );
    expect(deliveries.rows.some((r) => r.last_error?.startsWith('smtp/451 '))).toBe(true);
    for (const row of deliveries.rows) expect(row.last_error).toMatch(SAFE_TEXT);

    // The error ids in the headers are in the services' log lines, the raw text nowhere.
    const smtpHeader = mailHeaders.find((h) => h['cc-last-error']?.startsWith('smtp/451 '));
    const errorId = /error id ([0-9a-f-]{36})/.exec(smtpHeader?.['cc-last-error'] ?? '')?.[1] ?? 'none';
    expect(logsContaining(errorId).length).toBeGreaterThan(0);
    expect(logsContaining(DB_MARKER)).toEqual([]);
    expect(logsContaining(SMTP_MARKER)).toEqual([]);
    expect(JSON.stringify([auditHeaders, mailHeaders, deliveries.rows])).not.toMatch(/leakmarker/);
  }, 240000);
});
