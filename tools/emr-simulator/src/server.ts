import type {
  Appointment,
  Bundle,
  CapabilityStatement,
  ExtractResource,
  OperationOutcome,
  Patient,
  Practitioner,
  Resource,
  ResourceType,
} from '@medplum/fhirtypes';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ops, SimHttpError } from './operations';
import {
  EMR_TYPES,
  newToken,
  SimWorld,
  type CreateInstanceOptions,
  type SimAppointment,
  type SimDocument,
  type SimEmrType,
  type SimFaults,
  type SimInstance,
  type SimNote,
  type SimPatient,
} from './world';

/**
 * The EMR simulator: one HTTP server playing every EMR type, each with its own auth scheme and API
 * shape (docs/emr.md), plus `/_sim/*` to create instances, flip fault switches and inspect what
 * each EMR received. Loopback only.
 */
export interface RunningSimulator {
  url: string;
  port: number;
  world: SimWorld;
  close(): Promise<void>;
}

interface Req {
  method: string;
  path: string;
  segments: string[];
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

type Dialect = 'telus' | 'accuro' | 'oscar' | 'fhir';

const MAX_BODY = 25 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new SimHttpError(413, 'too_large', 'body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text) return resolve({});
      const type = req.headers['content-type'] ?? '';
      try {
        if (type.includes('application/x-www-form-urlencoded')) {
          return resolve(Object.fromEntries(new URLSearchParams(text)));
        }
        const parsed: unknown = JSON.parse(text);
        resolve(Array.isArray(parsed) ? { patch: parsed } : (parsed as Record<string, unknown>));
      } catch {
        reject(new SimHttpError(400, 'invalid_json', 'body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/** The Idempotency-Key a write came with (null: none). */
function keyOf(req: Req): string | null {
  return str(req.headers['idempotency-key']) || null;
}

function bearer(req: Req): string {
  const header = req.headers.authorization ?? '';
  return header.startsWith('Bearer ') ? header.slice(7) : '';
}

function cookie(req: Req, name: string): string {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === name && v) return v;
  }
  return '';
}

function unauthorized(message = 'invalid or expired credentials'): SimHttpError {
  return new SimHttpError(401, 'unauthorized', message);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- shapes per dialect

/** A TELUS appointment: our fields, but for its id, its start time and its upper-case status. */
function telusAppointment(a: SimAppointment): Record<string, unknown> {
  const { id, providerId, patientId, start, durationMinutes, reason, status } = a;
  return {
    appointmentId: id,
    providerId,
    patientId,
    startTime: start,
    durationMinutes,
    reason,
    status: status.toUpperCase(),
  };
}

/** A TELUS patient: our fields, but for its id, health card number and date of birth. */
function telusPatient({ id, healthNumber, birthDate, ...name }: SimPatient): Record<string, unknown> {
  return { patientId: id, ...name, healthCardNumber: healthNumber, dateOfBirth: birthDate };
}

const OSCAR_STATUS: Record<SimAppointment['status'], string> = { booked: 't', arrived: 'H', cancelled: 'C' };

function fhirPatient(p: SimPatient): Patient {
  return {
    resourceType: 'Patient',
    id: p.id,
    identifier: [
      { system: 'https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn', value: p.healthNumber },
    ],
    name: [{ family: p.lastName, given: [p.firstName] }],
    birthDate: p.birthDate,
  };
}

function fhirAppointment(a: SimAppointment): Appointment {
  return {
    resourceType: 'Appointment',
    id: a.id,
    status: a.status,
    description: a.reason,
    start: a.start,
    end: new Date(Date.parse(a.start) + a.durationMinutes * 60000).toISOString(),
    minutesDuration: a.durationMinutes,
    participant: [
      { actor: { reference: `Practitioner/${a.providerId}` }, status: 'accepted' },
      { actor: { reference: `Patient/${a.patientId}` }, status: 'accepted' },
    ],
  };
}

function searchset<T extends Resource>(resources: T[]): Bundle<T> {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: resources.length,
    entry: resources.map((resource) => ({ resource })),
  };
}

/**
 * A posted FHIR resource, narrowed by its `resourceType` (400 otherwise); its fields are still the
 * client's JSON and are read as optional.
 */
function fhirBody<K extends ResourceType>(req: Req, type: K): ExtractResource<K> {
  const body = req.body;
  if (!isResourceOf(body, type)) throw new SimHttpError(400, 'invalid', `the body must be a ${type}`);
  return body;
}

function isResourceOf<K extends ResourceType>(body: object, type: K): body is ExtractResource<K> {
  return (body as Partial<Resource>).resourceType === type;
}

function refId(reference: unknown, type: string): string {
  const text = str(reference);
  return text.startsWith(`${type}/`) ? text.slice(type.length + 1) : '';
}

// ---------------------------------------------------------------- chart writes per dialect

type ChartEntry = 'note' | 'document' | 'tickler';

/**
 * How a dialect's API files notes, documents and ticklers: the body field that carries each part
 * of an entry, the path segment of each entry under a patient (`entryAt`), and how it answers a
 * write (status, the field of the new id, anything it adds). A tickler names its `patientId`
 * field where the path names no patient.
 */
interface WriteDialect {
  entryAt?: Partial<Record<string, ChartEntry>>;
  status: number;
  extra?: Record<string, unknown>;
  ids: Record<ChartEntry, string>;
  note: { text: string; author: string; externalId?: string };
  document: { title: string; contentType: string; base64: string; externalId?: string };
  tickler: { patientId?: string; message: string; dueDate: string; assignee: string };
}

const TELUS_WRITES: WriteDialect = {
  entryAt: { 'progress-notes': 'note', documents: 'document', tasks: 'tickler' },
  status: 201,
  ids: { note: 'noteId', document: 'documentId', tickler: 'taskId' },
  note: { text: 'text', author: 'author', externalId: 'externalId' },
  document: { title: 'title', contentType: 'mimeType', base64: 'content', externalId: 'externalId' },
  tickler: { message: 'description', dueDate: 'dueDate', assignee: 'assignedTo' },
};

const ACCURO_WRITES: WriteDialect = {
  entryAt: { 'chart-notes': 'note', documents: 'document' },
  status: 201,
  ids: { note: 'noteId', document: 'documentId', tickler: 'taskId' },
  note: { text: 'content', author: 'author', externalId: 'referenceId' },
  document: { title: 'fileName', contentType: 'contentType', base64: 'data', externalId: 'referenceId' },
  tickler: { patientId: 'patientId', message: 'subject', dueDate: 'dueDate', assignee: 'assignee' },
};

const OSCAR_WRITES: WriteDialect = {
  status: 200,
  extra: { success: true },
  ids: { note: 'noteId', document: 'documentNo', tickler: 'ticklerNo' },
  note: { text: 'note', author: 'providerNo' },
  document: { title: 'docDesc', contentType: 'contentType', base64: 'fileContents' },
  tickler: {
    patientId: 'demographicNo',
    message: 'message',
    dueDate: 'serviceDate',
    assignee: 'taskAssignedTo',
  },
};

/** The request body's fields that `names` points at, under our names (as strings; '' when absent). */
function fieldsOf<T extends Record<string, string | undefined>>(
  req: Req,
  names: T,
): { [K in keyof T]: string } {
  return Object.fromEntries(
    Object.entries(names).map(([ours, theirs]) => [ours, str(theirs ? req.body[theirs] : undefined)]),
  ) as { [K in keyof T]: string };
}

/** Files a chart entry from a request in `dialect`'s terms, once per Idempotency-Key. */
function chartWrite(
  instance: SimInstance,
  req: Req,
  dialect: WriteDialect,
  entry: ChartEntry,
  pathPatient?: string,
): Answer {
  const where = { patientId: pathPatient ?? '', key: keyOf(req) };
  const write = (): { id: string } => {
    switch (entry) {
      case 'note':
        return ops.addNote(instance, { ...where, ...fieldsOf(req, dialect.note) });
      case 'document':
        return ops.addDocument(instance, { ...where, ...fieldsOf(req, dialect.document) });
      case 'tickler':
        return ops.addTickler(instance, { ...where, ...fieldsOf(req, dialect.tickler) });
    }
  };
  return once(instance, req, () => ({
    status: dialect.status,
    body: { ...dialect.extra, [dialect.ids[entry]]: write().id },
  }));
}

// ---------------------------------------------------------------- the server

export function createSimulatorServer(world: SimWorld = new SimWorld()): { server: Server; world: SimWorld } {
  const server = createServer((request, response) => {
    void handle(world, request, response);
  });
  return { server, world };
}

async function handle(world: SimWorld, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://sim');
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let instance: SimInstance | undefined;
  let req: Req | undefined;
  try {
    const body = await readBody(request);
    req = {
      method: request.method ?? 'GET',
      path: url.pathname,
      segments,
      query: url.searchParams,
      headers: request.headers,
      body,
    };
    if (segments[0] === '_sim') return send(response, inspect(world, req));
    const dialect = dialectOf(segments[0]);
    if (!dialect) throw new SimHttpError(404, 'not_found', 'no such API');
    instance = resolveInstance(world, dialect, req);
    if (!instance) throw unauthorized();
    const faults = instance.faults;
    if (faults.down) {
      request.socket.destroy();
      return;
    }
    const write = req.method === 'POST' || req.method === 'PUT';
    if (write) instance.writesInFlight.push(req.path);
    let answer: Answer;
    try {
      const delay = faults.slowMs + (write ? faults.slowWritesMs : 0);
      if (delay > 0) await sleep(delay);
      instance.requestCount += 1;
      if (faults.intermittent5xxEvery > 0 && instance.requestCount % faults.intermittent5xxEvery === 0) {
        throw new SimHttpError(503, 'unavailable', 'temporarily unavailable');
      }
      answer = ROUTES[dialect](instance, req);
    } finally {
      if (write) instance.writesInFlight.splice(instance.writesInFlight.indexOf(req.path), 1);
    }
    record(instance, req, answer.status, answer.headers?.['Idempotent-Replayed'] === 'true');
    return send(response, answer);
  } catch (error) {
    const e =
      error instanceof SimHttpError ? error : new SimHttpError(500, 'internal', (error as Error).message);
    if (instance && req) record(instance, req, e.status, false);
    const fhir = segments[0] === 'fhir' || segments[0] === 'chr';
    const outcome: OperationOutcome = {
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code:
            e.status === 401
              ? 'login'
              : e.status === 403
                ? 'forbidden'
                : e.status === 404
                  ? 'not-found'
                  : 'exception',
          diagnostics: e.message,
        },
      ],
    };
    // Like a real EMR, the outcome carries the facts of a permission refusal beside its issues.
    const body = fhir ? { ...outcome, ...e.extra } : { error: e.code, message: e.message, ...e.extra };
    return send(response, { status: e.status, body });
  }
}

function send(response: ServerResponse, answer: Answer): void {
  if (response.destroyed) return;
  response.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
  response.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
}

function record(instance: SimInstance, req: Req, status: number, replayed: boolean): void {
  instance.received.push({
    at: new Date().toISOString(),
    method: req.method,
    path: req.path,
    idempotencyKey: keyOf(req),
    status,
    replayed,
  });
  if (instance.received.length > 50000) instance.received.splice(0, 10000);
}

function dialectOf(first: string | undefined): Dialect | undefined {
  switch (first ?? '') {
    case 'telus':
      return 'telus';
    case 'accuro':
      return 'accuro';
    case 'oscar':
      return 'oscar';
    case 'fhir':
    case 'chr':
      return 'fhir';
    default:
      return undefined;
  }
}

/** Finds the EMR instance a request is for, from its credentials (token endpoints) or token. */
function resolveInstance(world: SimWorld, dialect: Dialect, req: Req): SimInstance | undefined {
  const { segments, body } = req;
  switch (dialect) {
    case 'telus': {
      // /telus/v1/oauth/token with client_id = EMR Instance ID; otherwise a bearer token.
      if (segments[2] === 'oauth') {
        const instanceId = str(body['client_id']);
        return world.find(
          (i) =>
            (i.type === 'ps-suite' || i.type === 'med-access') && i.credentials.instanceId === instanceId,
        );
      }
      return world.byToken(bearer(req));
    }
    case 'accuro': {
      if (segments[1] === 'oauth') {
        const tenant = str(body['tenant_id']);
        return world.find((i) => i.type === 'accuro' && i.credentials.tenant === tenant);
      }
      return world.byToken(bearer(req));
    }
    case 'oscar':
    case 'fhir': {
      // Each OSCAR server / FHIR endpoint has its own base URL: /oscar/<id>, /fhir/<id>, /chr/<id>.
      const instance = world.get(segments[1] ?? '');
      const expected: SimEmrType[] =
        dialect === 'oscar' ? ['oscar-pro'] : segments[0] === 'chr' ? ['chr'] : ['fhir-r4'];
      return instance && expected.includes(instance.type) ? instance : undefined;
    }
  }
}

/** Runs a write once per Idempotency-Key: a retried command answers the first result again. */
function once(instance: SimInstance, req: Req, write: () => Answer): Answer {
  const key = str(req.headers['idempotency-key']);
  if (!key || instance.faults.ignoreIdempotencyKey) return write();
  const slot = `${req.method} ${key}`;
  const seen = instance.idempotency.get(slot);
  if (seen) return { status: seen.status, body: seen.body, headers: { 'Idempotent-Replayed': 'true' } };
  const answer = write();
  if (answer.status < 300) instance.idempotency.set(slot, { status: answer.status, body: answer.body });
  return answer;
}

const ROUTES: Record<Dialect, (instance: SimInstance, req: Req) => Answer> = { telus, accuro, oscar, fhir };

function issueToken(instance: SimInstance): Answer {
  return { status: 200, body: { access_token: newToken(instance), token_type: 'Bearer', expires_in: 3600 } };
}

function requireToken(instance: SimInstance, req: Req): void {
  if (instance.faults.deauthorized || !instance.tokens.has(bearer(req)))
    throw unauthorized('access token rejected');
}

// TELUS Health (PS Suite and Med Access): OAuth client credentials with the EMR Instance ID and EMR Secret.
function telus(instance: SimInstance, req: Req): Answer {
  const [, , resource, id, sub] = req.segments;
  const m = req.method;
  if (resource === 'oauth' && id === 'token' && m === 'POST') {
    if (instance.faults.deauthorized || str(req.body['client_secret']) !== instance.credentials.secret) {
      throw new SimHttpError(401, 'invalid_client', 'EMR Instance ID or EMR Secret is not valid');
    }
    return issueToken(instance);
  }
  requireToken(instance, req);
  if (resource === 'providers' && m === 'GET') {
    return {
      status: 200,
      body: {
        providers: ops
          .providers(instance)
          .map((p) => ({ providerId: p.id, firstName: p.firstName, lastName: p.lastName })),
      },
    };
  }
  if (resource === 'appointments' && !id && m === 'GET') {
    const list = ops.appointments(
      instance,
      req.query.get('providerId') ?? '',
      req.query.get('startDate') ?? '',
      req.query.get('endDate') ?? '',
    );
    return { status: 200, body: { appointments: list.map(telusAppointment) } };
  }
  if (resource === 'appointments' && id && sub === 'arrival' && m === 'POST') {
    return once(instance, req, () => ({
      status: 200,
      body: telusAppointment(ops.markArrived(instance, id)),
    }));
  }
  if (resource === 'appointments' && (m === 'POST' || m === 'PUT')) {
    const b = req.body;
    return once(instance, req, () => ({
      status: m === 'POST' ? 201 : 200,
      body: telusAppointment(
        ops.upsertAppointment(instance, {
          ...(id ? { id } : {}),
          providerId: str(b['providerId']) || undefined,
          patientId: str(b['patientId']) || undefined,
          start: str(b['startTime']) || undefined,
          ...(typeof b['durationMinutes'] === 'number' ? { durationMinutes: b['durationMinutes'] } : {}),
          reason: str(b['reason']) || undefined,
        }),
      ),
    }));
  }
  if (resource === 'patients' && !id && m === 'GET') {
    return {
      status: 200,
      body: {
        patients: ops
          .patientByHealthNumber(instance, req.query.get('healthCardNumber') ?? '')
          .map(telusPatient),
      },
    };
  }
  if (resource === 'patients' && id && (sub === 'progress-notes' || sub === 'documents') && m === 'GET') {
    // A patient's chart entries (`?externalId=` narrows to what one writer filed under its reference).
    const chart = ops.chartOf(instance, id, req.query.get('externalId'));
    return {
      status: 200,
      body:
        sub === 'documents'
          ? {
              documents: chart.documents.map((d) => ({
                documentId: d.id,
                title: d.title,
                mimeType: d.contentType,
                createdAt: d.createdAt,
                externalId: d.externalId ?? null,
              })),
            }
          : {
              progressNotes: chart.notes.map((n) => ({
                noteId: n.id,
                createdAt: n.createdAt,
                externalId: n.externalId ?? null,
              })),
            },
    };
  }
  if (resource === 'patients' && id && m === 'POST') {
    const entry = TELUS_WRITES.entryAt?.[sub ?? ''];
    if (entry) return chartWrite(instance, req, TELUS_WRITES, entry, id);
  }
  throw new SimHttpError(404, 'not_found', 'no such TELUS resource');
}

// Accuro (QHR): OAuth client credentials for the tenant's 'OceanAPI[tenant]' user; per-provider permissions.
function accuro(instance: SimInstance, req: Req): Answer {
  const m = req.method;
  if (req.segments[1] === 'oauth') {
    const c = instance.credentials;
    if (
      instance.faults.deauthorized ||
      str(req.body['client_id']) !== c.clientId ||
      str(req.body['client_secret']) !== c.clientSecret
    ) {
      throw new SimHttpError(401, 'invalid_client', `API client of user ${c.apiUser ?? ''} rejected`);
    }
    return issueToken(instance);
  }
  requireToken(instance, req);
  const [, , , resource, id, sub, sub2] = req.segments; // /accuro/rest/v1/<resource>/...
  if (resource === 'providers' && m === 'GET') {
    return {
      status: 200,
      body: ops.providers(instance).map((p) => ({
        providerId: Number(p.id),
        firstName: p.firstName,
        lastName: p.lastName,
        permissions: p.permissions,
      })),
    };
  }
  if (resource === 'scheduler' && id === 'appointments' && !sub && m === 'GET') {
    const list = ops.appointments(
      instance,
      req.query.get('providerId') ?? '',
      req.query.get('startDate') ?? '',
      req.query.get('endDate') ?? '',
    );
    return {
      status: 200,
      body: list.map((a) => ({
        appointmentId: Number(a.id),
        providerId: Number(a.providerId),
        patientId: Number(a.patientId),
        date: a.start.slice(0, 10),
        startTime: a.start.slice(11, 16),
        length: a.durationMinutes,
        reason: a.reason,
        status: { arrived: a.status === 'arrived', cancelled: a.status === 'cancelled' },
      })),
    };
  }
  if (resource === 'scheduler' && id === 'appointments' && sub && sub2 === 'status' && m === 'PUT') {
    return once(instance, req, () => {
      if (str(req.body['status']) !== 'ARRIVED')
        throw new SimHttpError(400, 'invalid', 'status must be ARRIVED');
      ops.markArrived(instance, sub);
      return { status: 204, body: undefined };
    });
  }
  if (resource === 'scheduler' && id === 'appointments' && (m === 'POST' || m === 'PUT')) {
    const b = req.body;
    const date = str(b['date']);
    const time = str(b['startTime']);
    return once(instance, req, () => {
      const a = ops.upsertAppointment(instance, {
        ...(sub ? { id: sub } : {}),
        providerId: str(b['providerId']) || undefined,
        patientId: str(b['patientId']) || undefined,
        start: date && time ? new Date(`${date}T${time}:00Z`).toISOString() : undefined,
        reason: str(b['reason']) || undefined,
      });
      return { status: m === 'POST' ? 201 : 200, body: { appointmentId: Number(a.id) } };
    });
  }
  if (resource === 'patients' && !id && m === 'GET') {
    return {
      status: 200,
      body: ops.patientByHealthNumber(instance, req.query.get('healthNumber') ?? '').map((p) => ({
        patientId: Number(p.id),
        demographics: {
          firstName: p.firstName,
          lastName: p.lastName,
          birthday: p.birthDate,
          healthCard: { phn: p.healthNumber },
        },
      })),
    };
  }
  if (resource === 'patients' && id && (sub === 'chart-notes' || sub === 'documents') && m === 'GET') {
    // A patient's chart entries (`?referenceId=` narrows to what one writer filed under its reference).
    const chart = ops.chartOf(instance, id, req.query.get('referenceId'));
    const entries: (SimNote | SimDocument)[] = sub === 'documents' ? chart.documents : chart.notes;
    return {
      status: 200,
      body: entries.map((e) => ({
        id: e.id,
        patientId: Number(id),
        createdDate: e.createdAt,
        referenceId: e.externalId ?? null,
        ...('title' in e ? { fileName: e.title, contentType: e.contentType } : {}),
      })),
    };
  }
  if (resource === 'patients' && id && m === 'POST') {
    const entry = ACCURO_WRITES.entryAt?.[sub ?? ''];
    if (entry) return chartWrite(instance, req, ACCURO_WRITES, entry, id);
  }
  if (resource === 'tasks' && m === 'POST') return chartWrite(instance, req, ACCURO_WRITES, 'tickler');
  throw new SimHttpError(404, 'not_found', 'no such Accuro resource');
}

// OSCAR Pro: form login of the 'OceanConnect' user (username, password, PIN unless Pro Auth) → session cookie.
function oscar(instance: SimInstance, req: Req): Answer {
  const m = req.method;
  const rest = req.segments.slice(2); // after /oscar/<id>
  if (rest[0] === 'ws' && rest[1] === 'login' && m === 'POST') {
    const c = instance.credentials;
    const pinOk = instance.proAuth ? true : str(req.body['pin']) === c.pin;
    if (
      instance.faults.deauthorized ||
      str(req.body['username']) !== c.username ||
      str(req.body['password']) !== c.password
    ) {
      throw new SimHttpError(401, 'login_failed', 'username or password is incorrect');
    }
    if (!pinOk)
      throw new SimHttpError(
        401,
        'pin_required',
        'PIN is incorrect or missing (this OSCAR does not use Pro Auth)',
      );
    const token = newToken(instance);
    return {
      status: 200,
      body: { success: true, providerNo: '999998' },
      headers: { 'set-cookie': `JSESSIONID=${token}; Path=/; HttpOnly` },
    };
  }
  const session = cookie(req, 'JSESSIONID');
  if (instance.faults.deauthorized || !instance.tokens.has(session))
    throw new SimHttpError(401, 'session_expired', 'not logged in');
  const [ws, services, group, a, b, c] = rest;
  if (ws !== 'ws' || services !== 'services')
    throw new SimHttpError(404, 'not_found', 'no such OSCAR resource');
  if (group === 'providerService' && a === 'providers' && m === 'GET') {
    return {
      status: 200,
      body: {
        content: ops.providers(instance).map((p) => ({
          providerNo: p.id,
          firstName: p.firstName,
          lastName: p.lastName,
          providerType: 'doctor',
        })),
      },
    };
  }
  if (group === 'schedule' && b === 'appointments' && m === 'GET' && a) {
    const list = ops.appointments(
      instance,
      a,
      req.query.get('startDate') ?? '',
      req.query.get('endDate') ?? '',
    );
    return {
      status: 200,
      body: {
        content: list.map((x) => ({
          id: Number(x.id),
          providerNo: x.providerId,
          demographicNo: Number(x.patientId),
          appointmentDate: x.start.slice(0, 10),
          startTime: x.start.slice(11, 19),
          duration: x.durationMinutes,
          reason: x.reason,
          status: OSCAR_STATUS[x.status],
        })),
      },
    };
  }
  if (group === 'schedule' && a === 'appointment' && b && c === 'updateStatus' && m === 'POST') {
    return once(instance, req, () => {
      if (str(req.body['status']) !== 'H')
        throw new SimHttpError(400, 'invalid', 'status code must be H (here)');
      ops.markArrived(instance, b);
      return { status: 200, body: { success: true } };
    });
  }
  if (group === 'schedule' && a === 'appointment' && m === 'POST') {
    const x = req.body;
    return once(instance, req, () => {
      const appt = ops.upsertAppointment(instance, {
        ...(b ? { id: b } : {}),
        providerId: str(x['providerNo']) || undefined,
        patientId: str(x['demographicNo']) || undefined,
        start: str(x['appointmentDate'])
          ? new Date(`${str(x['appointmentDate'])}T${str(x['startTime'])}Z`).toISOString()
          : undefined,
        reason: str(x['reason']) || undefined,
      });
      return { status: 200, body: { success: true, id: Number(appt.id) } };
    });
  }
  if (group === 'demographics' && a === 'search' && m === 'GET') {
    const hin = req.query.get('hin') ?? '';
    return {
      status: 200,
      body: {
        content: ops.patientByHealthNumber(instance, hin).map((p) => ({
          demographicNo: Number(p.id),
          firstName: p.firstName,
          lastName: p.lastName,
          hin: p.healthNumber,
          dob: p.birthDate,
        })),
      },
    };
  }
  if (group === 'notes' && a && b === 'saveNote' && m === 'POST') {
    return chartWrite(instance, req, OSCAR_WRITES, 'note', a);
  }
  if (group === 'document' && a && b === 'upload' && m === 'POST') {
    return chartWrite(instance, req, OSCAR_WRITES, 'document', a);
  }
  if (group === 'tickler' && a === 'add' && m === 'POST')
    return chartWrite(instance, req, OSCAR_WRITES, 'tickler');
  throw new SimHttpError(404, 'not_found', 'no such OSCAR resource');
}

// CHR and FHIR R4 EMRs: a FHIR base URL, with an API key (X-API-Key) or SMART client-credentials tokens.
function fhir(instance: SimInstance, req: Req): Answer {
  const m = req.method;
  const [resource, id] = req.segments.slice(2);
  const c = instance.credentials;
  if (resource === 'oauth' && id === 'token' && m === 'POST') {
    const basic = (req.headers.authorization ?? '').startsWith('Basic ')
      ? Buffer.from((req.headers.authorization ?? '').slice(6), 'base64')
          .toString()
          .split(':')
      : [str(req.body['client_id']), str(req.body['client_secret'])];
    if (
      instance.faults.deauthorized ||
      basic[0] !== c.clientId ||
      basic[1] !== c.clientSecret ||
      str(req.body['grant_type']) !== 'client_credentials'
    ) {
      throw new SimHttpError(401, 'invalid_client', 'client credentials rejected');
    }
    return issueToken(instance);
  }
  const apiKey = str(req.headers['x-api-key']);
  const authorized =
    !instance.faults.deauthorized &&
    ((apiKey !== '' && apiKey === c.apiKey) || instance.tokens.has(bearer(req)));
  if (!authorized) throw unauthorized('API key or access token rejected');
  if (resource === 'metadata' && m === 'GET') {
    return {
      status: 200,
      body: {
        resourceType: 'CapabilityStatement',
        status: 'active',
        date: '2026-01-01',
        kind: 'instance',
        fhirVersion: '4.0.1',
        format: ['json'],
      } satisfies CapabilityStatement,
    };
  }
  if (resource === 'Practitioner' && m === 'GET') {
    return {
      status: 200,
      body: searchset(
        ops.providers(instance).map((p): Practitioner => ({
          resourceType: 'Practitioner',
          id: p.id,
          name: [{ family: p.lastName, given: [p.firstName] }],
        })),
      ),
    };
  }
  if (resource === 'Appointment' && !id && m === 'GET') {
    const dates = req.query.getAll('date');
    const from = (dates.find((d) => d.startsWith('ge')) ?? '').slice(2);
    const to = (dates.find((d) => d.startsWith('le')) ?? '').slice(2);
    const practitioner = refId(req.query.get('practitioner') ?? req.query.get('actor'), 'Practitioner');
    return {
      status: 200,
      body: searchset(ops.appointments(instance, practitioner, from, to).map(fhirAppointment)),
    };
  }
  if (resource === 'Appointment' && id && m === 'PATCH') {
    const patch = Array.isArray(req.body['patch']) ? (req.body['patch'] as Record<string, unknown>[]) : [];
    const statusOp = patch.find((p) => p['path'] === '/status' && p['op'] === 'replace');
    if (str(statusOp?.['value']) !== 'arrived')
      throw new SimHttpError(422, 'invalid', 'only status → arrived is supported');
    return once(instance, req, () => ({ status: 200, body: fhirAppointment(ops.markArrived(instance, id)) }));
  }
  if (resource === 'Appointment' && (m === 'POST' || m === 'PUT')) {
    const b = fhirBody(req, 'Appointment');
    const participants = Array.isArray(b.participant) ? b.participant : [];
    const refOf = (type: string): string | undefined =>
      participants.map((p) => refId(p.actor?.reference, type)).find(Boolean);
    return once(instance, req, () => ({
      status: m === 'POST' ? 201 : 200,
      body: fhirAppointment(
        ops.upsertAppointment(instance, {
          ...(id ? { id } : {}),
          providerId: refOf('Practitioner'),
          patientId: refOf('Patient'),
          start: str(b.start) || undefined,
          reason: str(b.description) || undefined,
        }),
      ),
    }));
  }
  if (resource === 'Patient' && !id && m === 'GET') {
    const identifier = req.query.get('identifier') ?? '';
    const value = identifier.includes('|') ? identifier.slice(identifier.indexOf('|') + 1) : identifier;
    return { status: 200, body: searchset(ops.patientByHealthNumber(instance, value).map(fhirPatient)) };
  }
  if (resource === 'DocumentReference' && m === 'POST') {
    const b = fhirBody(req, 'DocumentReference');
    const patientId = refId(b.subject?.reference, 'Patient');
    const attachment = b.content?.[0]?.attachment ?? {};
    const contentType = str(attachment.contentType);
    return once(instance, req, () => {
      const created =
        contentType === 'text/plain'
          ? ops.addNote(instance, {
              patientId,
              text: Buffer.from(str(attachment.data), 'base64').toString('utf8'),
              author: str(b.author?.[0]?.display),
              key: keyOf(req),
            })
          : ops.addDocument(instance, {
              patientId,
              title: str(attachment.title),
              contentType,
              base64: str(attachment.data),
              key: keyOf(req),
            });
      return {
        status: 201,
        body: { ...b, id: created.id },
        headers: { location: `DocumentReference/${created.id}` },
      };
    });
  }
  if (resource === 'Task' && m === 'POST') {
    if (instance.type === 'chr') throw new SimHttpError(405, 'not_supported', 'this CHR has no task list');
    const b = fhirBody(req, 'Task');
    return once(instance, req, () => {
      const created = ops.addTickler(instance, {
        patientId: refId(b.for?.reference, 'Patient'),
        message: str(b.description),
        dueDate: str(b.restriction?.period?.end),
        assignee: str(b.owner?.reference) || null,
        key: keyOf(req),
      });
      return { status: 201, body: { ...b, id: created.id } };
    });
  }
  throw new SimHttpError(404, 'not_found', `no such FHIR interaction ${m} ${resource ?? ''}`);
}

// ---------------------------------------------------------------- /_sim: create, fault switches, inspection

function summary(instance: SimInstance, baseUrl: string): Record<string, unknown> {
  return {
    id: instance.id,
    type: instance.type,
    proAuth: instance.proAuth,
    credentials: instance.credentials,
    baseUrl: baseUrlOf(instance, baseUrl),
    faults: instance.faults,
    writesInFlight: instance.writesInFlight,
    counts: {
      providers: instance.providers.length,
      patients: instance.patients.length,
      appointments: instance.appointments.length,
      notes: instance.notes.length,
      documents: instance.documents.length,
      ticklers: instance.ticklers.length,
    },
  };
}

/** Where an adapter points for this instance (TELUS and Accuro are shared vendor endpoints). */
export function baseUrlOf(instance: SimInstance, root: string): string {
  switch (instance.type) {
    case 'ps-suite':
    case 'med-access':
      return `${root}/telus/v1`;
    case 'accuro':
      return `${root}/accuro`;
    case 'oscar-pro':
      return `${root}/oscar/${instance.id}`;
    case 'chr':
      return `${root}/chr/${instance.id}`;
    case 'fhir-r4':
      return `${root}/fhir/${instance.id}`;
  }
}

function inspect(world: SimWorld, req: Req): Answer {
  const root = `http://${str(req.headers.host)}`;
  const [, collection, id, sub] = req.segments;
  if (collection !== 'instances') throw new SimHttpError(404, 'not_found', 'no such inspection resource');
  if (!id && req.method === 'GET')
    return { status: 200, body: [...world.instances.values()].map((i) => summary(i, root)) };
  if (!id && req.method === 'POST') {
    const type = str(req.body['type']) as SimEmrType;
    if (!EMR_TYPES.includes(type))
      throw new SimHttpError(400, 'invalid', `type must be one of ${EMR_TYPES.join(', ')}`);
    if (req.body['id'] && world.get(str(req.body['id'])))
      throw new SimHttpError(409, 'exists', 'instance exists');
    const instance = world.add(req.body as unknown as CreateInstanceOptions);
    return { status: 201, body: summary(instance, root) };
  }
  const instance = world.get(id ?? '');
  if (!instance) throw new SimHttpError(404, 'not_found', `no instance ${id ?? ''}`);
  if (!sub && req.method === 'GET') return { status: 200, body: summary(instance, root) };
  if (!sub && req.method === 'DELETE') {
    world.instances.delete(instance.id);
    return { status: 204, body: undefined };
  }
  if (sub === 'faults' && req.method === 'PUT') {
    const next = req.body as Partial<SimFaults>;
    instance.faults = { ...instance.faults, ...next };
    return { status: 200, body: instance.faults };
  }
  if (sub === 'permissions' && req.method === 'PUT') {
    // { providerId, permissions: [...] }: what an EMR admin does in Accuro's Manage Security.
    const provider = instance.providers.find((p) => p.id === str(req.body['providerId']));
    if (!provider) throw new SimHttpError(404, 'not_found', 'no such provider');
    provider.permissions = (req.body['permissions'] as string[] | undefined) ?? [];
    return { status: 200, body: provider };
  }
  if (sub === 'received' && req.method === 'GET') return { status: 200, body: instance.received };
  if (sub === 'documents' && req.method === 'GET') {
    // The bytes of one document as the EMR filed them (base64), to read back what was written.
    const doc = instance.documents.find((d) => d.id === req.segments[4]);
    if (!doc?.content) throw new SimHttpError(404, 'not_found', 'no such document');
    return {
      status: 200,
      body: { id: doc.id, contentType: doc.contentType, content: doc.content.toString('base64') },
    };
  }
  if (sub === 'patients' && req.method === 'POST') {
    // A chart a clinic created (e.g. a second chart with the same health card number).
    const b = req.body;
    const patient = {
      id: String(5000 + instance.patients.length + 1),
      firstName: str(b['firstName']) || 'Sam',
      lastName: str(b['lastName']) || 'Doe',
      healthNumber: str(b['healthNumber']),
      birthDate: str(b['birthDate']),
    };
    if (!patient.healthNumber || !/^\d{4}-\d{2}-\d{2}$/.test(patient.birthDate))
      throw new SimHttpError(400, 'invalid', 'healthNumber and birthDate (YYYY-MM-DD) are required');
    instance.patients.push(patient);
    return { status: 201, body: patient };
  }
  if (sub === 'data' && req.method === 'GET') {
    return {
      status: 200,
      body: {
        providers: instance.providers,
        patients: instance.patients,
        notes: instance.notes,
        documents: instance.documents,
        ticklers: instance.ticklers,
        arrived: instance.appointments.filter((a) => a.status === 'arrived').map((a) => a.id),
        appointments: req.query.get('appointments') === 'true' ? instance.appointments : undefined,
      },
    };
  }
  throw new SimHttpError(404, 'not_found', 'no such inspection resource');
}

/** Starts the simulator on a loopback port (0 = any free port); used by tests and by main.ts. */
export async function startEmrSimulator(
  options: { port?: number; host?: string; seedDefaults?: boolean } = {},
): Promise<RunningSimulator> {
  const { server, world } = createSimulatorServer();
  if (options.seedDefaults) {
    for (const type of EMR_TYPES) world.add({ type, id: `demo-${type}` });
    world.add({ type: 'accuro', id: 'demo-accuro-restricted', seed: { restrictedProviders: [2] } });
    world.add({ type: 'oscar-pro', id: 'demo-oscar-pro-auth', proAuth: true });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    world,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
