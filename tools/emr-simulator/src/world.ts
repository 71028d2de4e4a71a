import { randomBytes, randomUUID } from 'node:crypto';

/** The EMR types the simulator plays (one instance = one clinic's EMR). */
export const EMR_TYPES = ['ps-suite', 'med-access', 'accuro', 'oscar-pro', 'chr', 'fhir-r4'] as const;
export type SimEmrType = (typeof EMR_TYPES)[number];

/** Accuro's per-provider permission columns (seed 003): all are needed for Ocean to work. */
export const ACCURO_PERMISSIONS = ['Patient', 'Scheduling', 'Billing', 'EMR', 'Labs', 'Visible'] as const;

export interface SimProvider {
  id: string;
  firstName: string;
  lastName: string;
  /** Permissions our EMR user holds on this provider's schedule; all of ACCURO_PERMISSIONS unless restricted. */
  permissions: string[];
}

export interface SimPatient {
  id: string;
  firstName: string;
  lastName: string;
  healthNumber: string;
  birthDate: string;
}

export interface SimAppointment {
  id: string;
  providerId: string;
  patientId: string;
  start: string;
  durationMinutes: number;
  reason: string;
  status: 'booked' | 'arrived' | 'cancelled';
}

export interface SimNote {
  id: string;
  patientId: string;
  text: string;
  author: string;
  createdAt: string;
  idempotencyKey: string | null;
  /** The writer's own reference kept with the note (TELUS `externalId`, Accuro `referenceId`). */
  externalId?: string | null;
}

export interface SimDocument {
  id: string;
  patientId: string;
  title: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  createdAt: string;
  idempotencyKey: string | null;
  /** The writer's own reference kept with the document (TELUS `externalId`, Accuro `referenceId`). */
  externalId?: string | null;
  /** The document's bytes, for inspection (`GET /_sim/instances/{id}/documents/{docId}/content`). */
  content?: Buffer;
}

export interface SimTickler {
  id: string;
  patientId: string;
  message: string;
  dueDate: string;
  assignee: string | null;
  idempotencyKey: string | null;
}

export interface SimFaults {
  /** Unreachable: every connection is destroyed without an answer. */
  down: boolean;
  /** Added latency on every answer, in ms. */
  slowMs: number;
  /** Added latency on writes only (POST, PUT), in ms: an EMR slow to file while it reads fast. */
  slowWritesMs: number;
  /** Our credentials and tokens are rejected (401). */
  deauthorized: boolean;
  /** Every n-th API request answers 503 (0 = off). */
  intermittent5xxEvery: number;
  /**
   * The `Idempotency-Key` header is ignored (most vendor APIs have none): a re-sent write is
   * written again, so only the writer's own read-back keeps it to one copy.
   */
  ignoreIdempotencyKey: boolean;
}

export interface SimCredentials {
  /** PS Suite / Med Access. */
  instanceId?: string;
  secret?: string;
  /** Accuro. */
  tenant?: string;
  clientId?: string;
  clientSecret?: string;
  apiUser?: string;
  /** OSCAR Pro. */
  username?: string;
  password?: string;
  pin?: string | null;
  /** CHR / FHIR R4. */
  apiKey?: string;
}

export interface ReceivedRequest {
  at: string;
  method: string;
  path: string;
  idempotencyKey: string | null;
  status: number;
  replayed: boolean;
}

export interface SimInstance {
  id: string;
  type: SimEmrType;
  proAuth: boolean;
  credentials: SimCredentials;
  providers: SimProvider[];
  patients: SimPatient[];
  appointments: SimAppointment[];
  notes: SimNote[];
  documents: SimDocument[];
  ticklers: SimTickler[];
  faults: SimFaults;
  received: ReceivedRequest[];
  tokens: Set<string>;
  idempotency: Map<string, { status: number; body: unknown }>;
  requestCount: number;
  /** Paths of writes (POST/PUT) received and not yet answered: a test can kill a caller mid-write. */
  writesInFlight: string[];
}

export interface SeedOptions {
  providers?: number;
  patients?: number;
  /** Appointments per provider per day. */
  appointmentsPerDay?: number;
  /** Days of schedule from `startDate` (default today, UTC). */
  days?: number;
  startDate?: string;
  /** Provider ids (1-based index in the seed) whose schedule our EMR user may not see. */
  restrictedProviders?: number[];
}

export interface CreateInstanceOptions {
  type: SimEmrType;
  id?: string;
  proAuth?: boolean;
  seed?: SeedOptions;
  credentials?: SimCredentials;
}

const FIRST = ['Alice', 'Bruno', 'Chen', 'Dana', 'Émile', 'Fatima', 'Gabriel', 'Hana', 'Isaac', 'Jeanne'];
const LAST = ['Martin', 'Tremblay', 'Wei', 'Roy', 'Gagnon', 'Singh', 'Côté', 'Nguyen', 'Bouchard', 'Okafor'];
const REASONS = ['Follow-up', 'Annual physical', 'Prescription renewal', 'New concern', 'Lab review'];

function secret(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}

function defaultCredentials(type: SimEmrType, id: string): SimCredentials {
  switch (type) {
    case 'ps-suite':
    case 'med-access':
      return { instanceId: id, secret: secret() };
    case 'accuro': {
      const tenant = String(10000 + Math.floor(Math.random() * 89999));
      return { tenant, clientId: `ocean-${tenant}`, clientSecret: secret(), apiUser: `OceanAPI${tenant}` };
    }
    case 'oscar-pro':
      return {
        username: 'OceanConnect',
        password: secret(12),
        pin: String(1000 + Math.floor(Math.random() * 8999)),
      };
    case 'chr':
    case 'fhir-r4':
      return { apiKey: secret(), clientId: `cc-${id}`, clientSecret: secret() };
  }
}

/** Seeds providers, patients and a schedule: deterministic in shape, sized by `seed`. */
export function createInstance(options: CreateInstanceOptions): SimInstance {
  const id = options.id ?? `${options.type}-${randomBytes(4).toString('hex')}`;
  const seed = options.seed ?? {};
  const providerCount = seed.providers ?? 4;
  const patientCount = seed.patients ?? 20;
  const perDay = seed.appointmentsPerDay ?? 6;
  const days = seed.days ?? 2;
  const start = seed.startDate ?? new Date().toISOString().slice(0, 10);
  const restricted = new Set(seed.restrictedProviders ?? []);
  const providers: SimProvider[] = [];
  for (let i = 1; i <= providerCount; i += 1) {
    providers.push({
      id: String(100 + i),
      firstName: FIRST[(i - 1) % FIRST.length] ?? 'Pat',
      lastName: `${LAST[(i - 1) % LAST.length] ?? 'Doe'}${i > LAST.length ? String(i) : ''}`,
      permissions: restricted.has(i) ? ['Patient', 'Visible'] : [...ACCURO_PERMISSIONS],
    });
  }
  const patients: SimPatient[] = [];
  for (let i = 1; i <= patientCount; i += 1) {
    patients.push({
      id: String(5000 + i),
      firstName: FIRST[(i * 3) % FIRST.length] ?? 'Sam',
      lastName: LAST[(i * 7) % LAST.length] ?? 'Doe',
      healthNumber: String(9000000000 + i),
      birthDate: `19${String(40 + (i % 60)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}`,
    });
  }
  const appointments: SimAppointment[] = [];
  const day0 = Date.parse(`${start}T00:00:00Z`);
  let n = 0;
  for (let d = 0; d < days; d += 1) {
    for (const provider of providers) {
      for (let k = 0; k < perDay; k += 1) {
        n += 1;
        // From 08:00 UTC, slots of ten minutes wrapping within the day.
        const minutes = 8 * 60 + ((k * 10) % (14 * 60));
        appointments.push({
          id: String(700000 + n),
          providerId: provider.id,
          patientId: patients[n % Math.max(1, patients.length)]?.id ?? '0',
          start: new Date(day0 + d * 86400000 + minutes * 60000).toISOString(),
          durationMinutes: 10,
          reason: REASONS[n % REASONS.length] ?? 'Visit',
          status: 'booked',
        });
      }
    }
  }
  const credentials = { ...defaultCredentials(options.type, id), ...(options.credentials ?? {}) };
  const proAuth = options.type === 'oscar-pro' && (options.proAuth ?? false);
  if (proAuth) credentials.pin = null;
  return {
    id,
    type: options.type,
    proAuth,
    credentials,
    providers,
    patients,
    appointments,
    notes: [],
    documents: [],
    ticklers: [],
    faults: {
      down: false,
      slowMs: 0,
      slowWritesMs: 0,
      deauthorized: false,
      intermittent5xxEvery: 0,
      ignoreIdempotencyKey: false,
    },
    received: [],
    tokens: new Set(),
    idempotency: new Map(),
    requestCount: 0,
    writesInFlight: [],
  };
}

export function newToken(instance: SimInstance): string {
  const token = `${instance.id}.${randomUUID()}`;
  instance.tokens.add(token);
  return token;
}

/** The world: every simulated EMR instance, by id. */
export class SimWorld {
  readonly instances = new Map<string, SimInstance>();

  add(options: CreateInstanceOptions): SimInstance {
    const instance = createInstance(options);
    this.instances.set(instance.id, instance);
    return instance;
  }

  get(id: string): SimInstance | undefined {
    return this.instances.get(id);
  }

  /** Finds the instance whose credentials match a predicate (the TELUS/Accuro shared endpoints). */
  find(predicate: (instance: SimInstance) => boolean): SimInstance | undefined {
    for (const instance of this.instances.values()) if (predicate(instance)) return instance;
    return undefined;
  }

  /** The instance a bearer token was issued for (token = `<instanceId>.<uuid>`). */
  byToken(token: string): SimInstance | undefined {
    const instance = this.instances.get(token.slice(0, token.lastIndexOf('.')));
    return instance?.tokens.has(token) ? instance : undefined;
  }
}
