// Shared harness of the emr-gateway integration suites: the real stack, the EMR simulator on a
// loopback port, the service as a process, a Kafka producer of commands and a collector of what
// the service publishes.
import { EVENT_PRODUCERS, Events, PRODUCT_EVENTS, Topics } from '@cloud-connect/contracts';
import { EventRegistry, type Envelope, type PayloadOf } from '@cloud-connect/kafka';
import { ServiceTokenIssuer } from '@cloud-connect/auth';
import { VaultPhiCipher } from '@cloud-connect/phi-client';
import {
  createUser,
  type CliRun,
  freePort,
  storeSiteSek,
  testServiceKeys,
  ServiceProcess,
  serviceEnvFor,
  stackEnv,
  signIn,
  TestCli,
  uniqueName,
  waitFor,
  type StackEnv,
} from '@cloud-connect/testing';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { Client } from 'pg';
import { startEmrSimulator, type RunningSimulator } from '../../../tools/emr-simulator/src/server';
import { VaultCommandCipher } from '../src/commands/phi-cipher';

export interface SimSummary {
  id: string;
  type: string;
  baseUrl: string;
  credentials: Record<string, string | null>;
}

export interface SimData {
  providers: { id: string; firstName: string; lastName: string }[];
  patients: { id: string; healthNumber: string; birthDate: string }[];
  notes: { id: string; patientId: string; text: string; idempotencyKey: string | null }[];
  documents: {
    id: string;
    patientId: string;
    title: string;
    sha256: string;
    createdAt: string;
    idempotencyKey: string | null;
  }[];
  ticklers: { id: string; patientId: string; message: string }[];
  arrived: string[];
  appointments?: { id: string; patientId: string; providerId: string; start: string; status: string }[];
}

export function torontoToday(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Toronto' }).format(new Date());
}

function randomSiteNumber(): string {
  return String(100000000 + Math.floor(Math.random() * 899999999));
}

export const PASSWORD = 'correct horse battery staple 42';

/** The credentials a site admin would enter for a simulated EMR. */
export function credentialsFor(sim: SimSummary, variant: 'good' | 'bad' = 'good'): Record<string, unknown> {
  const c = sim.credentials;
  const bad = (v: string | null | undefined): string => (variant === 'bad' ? `${v ?? ''}-wrong` : (v ?? ''));
  switch (sim.type) {
    case 'ps-suite':
    case 'med-access':
      return { type: sim.type, instanceId: c['instanceId'], secret: bad(c['secret']) };
    case 'accuro':
      return {
        type: 'accuro',
        tenant: c['tenant'],
        clientId: c['clientId'],
        clientSecret: bad(c['clientSecret']),
      };
    case 'oscar-pro':
      return {
        type: 'oscar-pro',
        baseUrl: sim.baseUrl,
        username: c['username'],
        password: bad(c['password']),
        pin: c['pin'],
      };
    case 'chr':
      return { type: 'chr', baseUrl: sim.baseUrl, auth: { kind: 'api-key', apiKey: bad(c['apiKey']) } };
    default:
      return {
        type: sim.type,
        baseUrl: sim.baseUrl,
        auth: { kind: 'client-credentials', clientId: c['clientId'], clientSecret: bad(c['clientSecret']) },
      };
  }
}

export class Harness {
  readonly env: StackEnv = stackEnv();
  readonly schema = uniqueName('emrgw');
  readonly registry = new EventRegistry(PRODUCT_EVENTS);
  /** Seals command content as a producer does: through the vault service, under the site's SEK. */
  cipher!: VaultCommandCipher;
  readonly published: Envelope[] = [];
  sim!: RunningSimulator;
  service!: ServiceProcess;
  vault!: ServiceProcess;
  /** Bearer token of a site admin of every site in the pool. */
  token = '';
  private tokenAt = 0;
  private readonly sites: string[] = [];
  db!: Client;
  private kafka!: Kafka;
  private producer!: Producer;
  private collector!: Consumer;
  private port = 0;

  constructor(
    private readonly siteCount: number,
    readonly overrides: Record<string, string> = {},
  ) {}

  /** A site registered (CLI → vault → site.registered → our replica) that the test admin administers. */
  site(): string {
    const site = this.sites.shift();
    if (!site) throw new Error('site pool exhausted: raise the Harness site count');
    return site;
  }

  private operatorCli?: TestCli;
  private adminCli?: TestCli;
  private adminSignedInAt = 0;

  /** The e-mail of the site admin of every site in the pool. */
  get adminEmail(): string {
    return `admin-${this.schema}@clinic.ca`;
  }

  /** An operator command of the CLI (site create, user grant) with the test operator credential. */
  private async cli(args: string[]): Promise<void> {
    this.operatorCli ??= new TestCli(this.vault.url);
    const result = await this.operatorCli.run(args);
    if (result.code !== 0) throw new Error(`cli ${args.join(' ')}: ${result.stderr}`);
  }

  /** The CLI signed in (`login`, password piped) as the site admin of every site in the pool. */
  async cliAsAdmin(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
    this.adminCli ??= new TestCli(this.vault.url);
    if (Date.now() - this.adminSignedInAt > 4 * 60 * 1000) {
      const login = await this.adminCli.raw(
        ['login', '--email', this.adminEmail, ...(await TestCli.codeArgs(this.adminEmail))],
        `${PASSWORD}\n`,
      );
      if (login.code !== 0) throw new Error(`login: ${login.stderr}`);
      this.adminSignedInAt = Date.now();
    }
    return this.adminCli.raw(args, '', env);
  }

  async start(): Promise<void> {
    this.vault = new ServiceProcess(
      'vault',
      await freePort(),
      serviceEnvFor('vault', this.env, { DATABASE_SCHEMA: `${this.schema}_vault` }),
    ).start();
    this.sim = await startEmrSimulator();
    this.db = new Client({ connectionString: this.env.DATABASE_URL });
    this.db.on('error', () => undefined);
    await this.db.connect();
    this.kafka = new Kafka({
      clientId: `test-${this.schema}`,
      brokers: this.env.KAFKA_BROKERS.split(','),
      logLevel: logLevel.NOTHING,
    });
    this.producer = this.kafka.producer();
    await this.producer.connect();
    this.port = await freePort();
    await this.vault.waitReady(90000);
    this.cipher = new VaultCommandCipher(
      new VaultPhiCipher({
        baseUrl: this.vault.url,
        tokens: new ServiceTokenIssuer('emr-gateway', testServiceKeys('emr-gateway')),
      }),
    );
    this.startService();
    await this.service.waitReady(90000);
    const email = this.adminEmail;
    for (let i = 0; i < this.siteCount; i += 1) {
      const site = randomSiteNumber();
      const args = ['--number', site, '--name', `Clinique ${site}`, '--admin-email', `creator@clinic.ca`];
      await this.cli([
        'site',
        'create',
        ...args,
        '--clinical-admin-email',
        'clinique@clinic.ca',
        '--locale',
        'fr',
      ]);
      if (i === 0) {
        await createUser({
          vaultUrl: this.vault.url,
          email,
          password: PASSWORD,
          siteNumber: site,
        });
      } else {
        await this.cli(['user', 'grant', '--email', email, '--site', site]);
      }
      this.sites.push(site);
    }
    this.token = await signIn(this.vault.url, email, PASSWORD);
    this.tokenAt = Date.now();
    // Each site stores an SEK, as a clinic does before its EMR commands can be sealed.
    for (const site of this.sites) await storeSiteSek(this.vault.url, this.token, site);
    for (const site of this.sites) {
      await waitFor(`replica of site ${site}`, async () => {
        const { rows } = await this.db.query(
          `SELECT 1 FROM "${this.schema}".site_replica WHERE site_number = $1`,
          [site],
        );
        return rows.length > 0;
      });
    }
    // Collect what the service publishes (alerts, audit, sync results), from now on.
    this.collector = this.kafka.consumer({ groupId: `probe-${randomUUID()}` });
    await this.collector.connect();
    await this.collector.subscribe({
      topics: [Topics.notificationRequested, Topics.syncCompleted, Topics.auditRecorded],
      fromBeginning: false,
    });
    await this.collector.run({
      eachMessage: ({ message }) => {
        try {
          this.published.push(this.registry.decode(message.value));
        } catch {
          /* not ours */
        }
        return Promise.resolve();
      },
    });
    await waitFor('collector assignment', () => this.collectorReady(), { timeoutMs: 30000 });
  }

  private async collectorReady(): Promise<boolean> {
    const probe = randomUUID();
    await this.send(Events.auditRecorded, '1', {
      auditId: probe,
      actor: 'probe',
      action: 'probe',
      target: 'probe',
      outcome: 'allowed',
    });
    await new Promise((r) => setTimeout(r, 500));
    return this.published.some((e) => (e.payload as { auditId?: string }).auditId === probe);
  }

  startService(): void {
    this.service = new ServiceProcess(
      'emr-gateway',
      this.port,
      serviceEnvFor('emr-gateway', this.env, {
        DATABASE_SCHEMA: this.schema,
        ADMIN_JWKS_URL: `${this.vault.url}/.well-known/jwks.json`,
        VAULT_SERVICE_URL: this.vault.url,
        EMR_TELUS_API_URL: `${this.sim.url}/telus/v1`,
        EMR_ACCURO_API_URL: `${this.sim.url}/accuro`,
        EMR_HTTP_TIMEOUT_MS: '3000',
        EMR_RETRY_SCHEDULE_MS: '300,500,800,1000',
        EMR_DISPATCH_INTERVAL_MS: '100',
        EMR_SITTING_WAIT_MS: '4000',
        EMR_ALERT_REMINDER_MS: '4000',
        ...this.overrides,
      }),
    ).start();
  }

  /** A fresh database connection (after Postgres was restarted under the test). */
  async reconnectDb(): Promise<void> {
    await this.db.end().catch(() => undefined);
    await waitFor(
      'postgres to accept connections',
      async () => {
        const db = new Client({ connectionString: this.env.DATABASE_URL });
        db.on('error', () => undefined);
        try {
          await db.connect();
          this.db = db;
          return true;
        } catch {
          await db.end().catch(() => undefined);
          return false;
        }
      },
      { timeoutMs: 60000, intervalMs: 500 },
    );
  }

  async stop(): Promise<void> {
    await this.collector?.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    await Promise.all([this.service?.stop(), this.vault?.stop()]);
    await this.sim?.close();
    if (this.db) {
      await this.db.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
      await this.db.query(`DROP SCHEMA IF EXISTS "${this.schema}_vault" CASCADE`);
      await this.db.end();
    }
  }

  async send<D extends (typeof Events)[keyof typeof Events]>(
    def: D,
    site: string,
    payload: PayloadOf<D>,
  ): Promise<Envelope> {
    const envelope = this.registry.create(def, site, payload);
    await this.producer.send({
      topic: def.topic,
      // Named as the first producer the event's catalogue entry allows (consumers check it).
      messages: [
        {
          key: site,
          value: JSON.stringify(envelope),
          headers: { 'cc-producer': EVENT_PRODUCERS[def.type]?.[0] ?? '' },
        },
      ],
    });
    return envelope;
  }

  /** Sends EMR commands (content sealed for the site) in one batch, in order. */
  async command(
    site: string,
    kind: 'save-progress-note' | 'attach-pdf' | 'mark-arrived' | 'upsert-appointment' | 'create-tickler',
    patientKey: string,
    content: unknown,
    sitting?: { id: string; index: number; total: number },
  ): Promise<string> {
    const commandId = randomUUID();
    const sealed = await this.cipher.seal(site, commandId, Buffer.from(JSON.stringify(content)));
    await this.send(Events.emrCommand, site, {
      commandId,
      kind,
      patientKey,
      sealed,
      ...(sitting ? { sitting } : {}),
    });
    return commandId;
  }

  // ---- simulator
  async simCreate(body: Record<string, unknown>): Promise<SimSummary> {
    const response = await fetch(`${this.sim.url}/_sim/instances`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ...body,
        seed: { startDate: torontoToday(), ...((body['seed'] as object) ?? {}) },
      }),
    });
    if (response.status !== 201) throw new Error(`sim create failed ${response.status}`);
    return (await response.json()) as SimSummary;
  }

  async simFaults(id: string, faults: Record<string, unknown>): Promise<void> {
    await fetch(`${this.sim.url}/_sim/instances/${id}/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(faults),
    });
  }

  /** Every request the simulated EMR instance received (method, path, when, status). */
  async simReceived(id: string): Promise<{ at: string; method: string; path: string; status: number }[]> {
    const response = await fetch(`${this.sim.url}/_sim/instances/${id}/received`);
    return (await response.json()) as { at: string; method: string; path: string; status: number }[];
  }

  /** Paths of writes the simulated EMR has received and not yet answered (held for `slowMs`). */
  async simWritesInFlight(id: string): Promise<string[]> {
    const response = await fetch(`${this.sim.url}/_sim/instances/${id}`);
    return ((await response.json()) as { writesInFlight: string[] }).writesInFlight;
  }

  async simData(id: string, appointments = false): Promise<SimData> {
    const response = await fetch(
      `${this.sim.url}/_sim/instances/${id}/data${appointments ? '?appointments=true' : ''}`,
    );
    return (await response.json()) as SimData;
  }

  // ---- admin API
  /** The pool admin's token, signed in again after 4 minutes (tokens last 5; some actions need a recent sign-in). */
  async adminToken(): Promise<string> {
    if (Date.now() - this.tokenAt > 4 * 60 * 1000) {
      this.token = await signIn(this.vault.url, this.adminEmail, PASSWORD);
      this.tokenAt = Date.now();
    }
    return this.token;
  }

  async api(
    method: string,
    path: string,
    body?: unknown,
    given?: string | null,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const bearer = given === undefined ? await this.adminToken() : given;
    const response = await fetch(`${this.service.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async connect(site: string, sim: SimSummary): Promise<void> {
    const result = await this.api('PUT', `/admin/sites/${site}/emr`, credentialsFor(sim));
    if (result.status !== 200) throw new Error(`connect failed: ${JSON.stringify(result.body)}`);
  }

  async setSettings(site: string, changes: Record<string, unknown>): Promise<void> {
    const current = await this.api('GET', `/admin/sites/${site}/emr/settings`);
    const settings = { ...(current.body['settings'] as object), ...changes };
    const result = await this.api('PUT', `/admin/sites/${site}/emr/settings`, {
      settings,
      expectedVersion: current.body['version'],
    });
    if (result.status !== 200) throw new Error(`settings failed: ${JSON.stringify(result.body)}`);
  }

  async status(site: string): Promise<Record<string, Record<string, unknown>>> {
    return (await this.api('GET', `/admin/sites/${site}/emr`)).body as Record<
      string,
      Record<string, unknown>
    >;
  }

  async commandState(site: string, commandId: string): Promise<Record<string, unknown> | null> {
    const r = await this.api('GET', `/admin/sites/${site}/emr/commands/${commandId}`);
    return r.status === 200 ? r.body : null;
  }

  async waitCommands(site: string, ids: string[], status: string, timeoutMs = 30000): Promise<void> {
    await waitFor(
      `${ids.length} command(s) ${status}`,
      async () => {
        for (const id of ids) if ((await this.commandState(site, id))?.['status'] !== status) return false;
        return true;
      },
      { timeoutMs, intervalMs: 150 },
    );
  }

  alerts(site: string, template?: string): Envelope[] {
    return this.published.filter(
      (e) =>
        e.type === 'notification.requested' &&
        e.siteId === site &&
        (template === undefined || (e.payload as { template: string }).template === template),
    );
  }
}

export const PDF_BASE64 = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n').toString('base64');
