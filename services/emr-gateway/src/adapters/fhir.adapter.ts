import type {
  Appointment,
  DocumentReference,
  ExtractResource,
  HumanName,
  ResourceType,
  Task,
} from '@medplum/fhirtypes';
import { isResource } from '../common/fhir-resource';
import type { EmrAdapter, EmrCredentials } from './emr-adapter';
import type { AppointmentInput, EmrAppointment, EmrPatient, EmrProvider } from './emr-records';
import { checked, EmrHttp, TokenCache, tokenFrom, type AdapterSettings } from './http';

type FhirCredentials = Extract<EmrCredentials, { type: 'chr' | 'fhir-r4' }>;

const HCN_SYSTEM = 'https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn';
const COMMAND_SYSTEM = 'urn:cloud-connect:emr-command';
const FHIR_JSON = 'application/fhir+json';

function displayName(names: HumanName[] | undefined): string {
  const name = names?.[0];
  return [...(name?.given ?? []), name?.family ?? ''].join(' ').trim();
}

/** The id the EMR gave the resource it created or updated ('' when its answer is not that resource). */
function createdId(answer: unknown, type: 'DocumentReference' | 'Appointment' | 'Task'): string {
  return isResource(answer, type) ? (answer.id ?? '') : '';
}

/** The `type` resources of a search answer (the EMR's JSON, narrowed here once). */
function entries<K extends ResourceType>(answer: unknown, type: K): ExtractResource<K>[] {
  const entry = isResource(answer, 'Bundle') ? (answer.entry ?? []) : [];
  return entry.map((e) => e.resource).filter((r) => isResource(r, type));
}

function participantId(appointment: Appointment, type: string): string {
  const ref = appointment.participant
    .map((p) => p.actor?.reference ?? '')
    .find((r) => r.startsWith(`${type}/`));
  return ref ? ref.slice(type.length + 1) : '';
}

/**
 * CHR and any FHIR R4 EMR: a base URL with an API key header or SMART Backend-style client
 * credentials. Notes and PDFs are DocumentReferences, arrival is a JSON Patch of Appointment.status,
 * ticklers are Tasks. Writes carry Idempotency-Key and an identifier naming the command.
 */
export class FhirAdapter implements EmrAdapter {
  readonly type: FhirCredentials['type'];
  private readonly http: EmrHttp;
  private readonly tokens: TokenCache | undefined;

  constructor(credentials: FhirCredentials, settings: AdapterSettings) {
    this.type = credentials.type;
    const auth = credentials.auth;
    if (auth.kind === 'client-credentials') {
      this.tokens = new TokenCache(async () => {
        const basic = Buffer.from(`${auth.clientId}:${auth.clientSecret}`).toString('base64');
        const response = await this.http.raw({
          method: 'POST',
          path: auth.tokenUrl ? '' : '/oauth/token',
          form: { grant_type: 'client_credentials' },
          headers: { authorization: `Basic ${basic}` },
        });
        return tokenFrom(checked(response, 'token'));
      });
    }
    const tokenBase = auth.kind === 'client-credentials' && auth.tokenUrl ? auth.tokenUrl : undefined;
    const base = new EmrHttp(credentials.baseUrl, settings, {
      headers: async () =>
        auth.kind === 'api-key'
          ? { [auth.header]: auth.apiKey }
          : { authorization: `Bearer ${(await this.tokens?.get()) ?? ''}` },
      reset: () => this.tokens?.reset(),
    });
    this.http = base;
    if (tokenBase) {
      const tokenHttp = new EmrHttp(tokenBase, settings, {
        headers: () => Promise.resolve({}),
        reset: () => undefined,
      });
      const raw = base.raw.bind(base);
      base.raw = (request) => (request.path === '' ? tokenHttp.raw(request) : raw(request));
    }
  }

  async authenticate(): Promise<void> {
    this.tokens?.reset();
    // The cheapest authenticated read: the capability statement does not prove auth on every server,
    // so read one Practitioner page.
    await this.http.call({
      method: 'GET',
      path: '/Practitioner',
      query: { _count: '1' },
      headers: { accept: FHIR_JSON },
    });
  }

  async providers(): Promise<EmrProvider[]> {
    const answer = await this.http.call({
      method: 'GET',
      path: '/Practitioner',
      headers: { accept: FHIR_JSON },
    });
    return entries(answer, 'Practitioner').map((p) => ({ id: p.id ?? '', name: displayName(p.name) }));
  }

  async appointments(providerId: string, from: string, to: string): Promise<EmrAppointment[]> {
    const answer = await this.http.call({
      method: 'GET',
      path: '/Appointment',
      query: { practitioner: `Practitioner/${providerId}`, date: [`ge${from}`, `le${to}`] },
      headers: { accept: FHIR_JSON },
    });
    return entries(answer, 'Appointment').map((a) => ({
      id: a.id ?? '',
      providerId: participantId(a, 'Practitioner'),
      patientId: participantId(a, 'Patient'),
      start: a.start ?? '',
      durationMinutes: a.minutesDuration ?? 0,
      status: a.status === 'arrived' ? 'arrived' : a.status === 'cancelled' ? 'cancelled' : 'booked',
    }));
  }

  async findPatients(healthNumber: string): Promise<EmrPatient[]> {
    const answer = await this.http.call({
      method: 'GET',
      path: '/Patient',
      query: { identifier: `${HCN_SYSTEM}|${healthNumber}` },
      headers: { accept: FHIR_JSON },
    });
    return entries(answer, 'Patient')
      .filter((p) => p.id)
      .map((p) => ({ id: String(p.id), healthNumber, birthDate: p.birthDate }));
  }

  private async createDocument(
    patientId: string,
    attachment: { contentType: string; data: string; title: string },
    category: string,
    key: string,
  ): Promise<string> {
    const resource: DocumentReference = {
      resourceType: 'DocumentReference',
      status: 'current',
      identifier: [{ system: COMMAND_SYSTEM, value: key }],
      type: { text: category },
      subject: { reference: `Patient/${patientId}` },
      author: [{ display: 'Ocean' }],
      date: new Date().toISOString(),
      content: [{ attachment }],
    };
    const answer = await this.http.call({
      method: 'POST',
      path: '/DocumentReference',
      json: resource,
      headers: { 'content-type': FHIR_JSON, 'If-None-Exist': `identifier=${COMMAND_SYSTEM}|${key}` },
      idempotencyKey: key,
    });
    return createdId(answer, 'DocumentReference');
  }

  saveProgressNote(patientId: string, text: string, key: string): Promise<string> {
    return this.createDocument(
      patientId,
      {
        contentType: 'text/plain',
        data: Buffer.from(text, 'utf8').toString('base64'),
        title: 'Progress note',
      },
      'Progress note',
      key,
    );
  }

  attachPdf(patientId: string, title: string, pdfBase64: string, key: string): Promise<string> {
    return this.createDocument(
      patientId,
      { contentType: 'application/pdf', data: pdfBase64, title },
      'Attachment',
      key,
    );
  }

  async markArrived(appointmentId: string, key: string): Promise<void> {
    await this.http.call({
      method: 'PATCH',
      path: `/Appointment/${encodeURIComponent(appointmentId)}`,
      json: [{ op: 'replace', path: '/status', value: 'arrived' }],
      headers: { 'content-type': 'application/json-patch+json' },
      idempotencyKey: key,
    });
  }

  async upsertAppointment(input: AppointmentInput, key: string): Promise<string> {
    const resource: Appointment = {
      resourceType: 'Appointment',
      ...(input.appointmentId ? { id: input.appointmentId } : {}),
      status: 'booked',
      description: input.reason,
      start: input.start,
      end: new Date(Date.parse(input.start) + input.durationMinutes * 60000).toISOString(),
      minutesDuration: input.durationMinutes,
      participant: [
        { actor: { reference: `Practitioner/${input.providerId}` }, status: 'accepted' },
        { actor: { reference: `Patient/${input.patientId}` }, status: 'accepted' },
      ],
    };
    const answer = await this.http.call({
      method: input.appointmentId ? 'PUT' : 'POST',
      path: input.appointmentId ? `/Appointment/${encodeURIComponent(input.appointmentId)}` : '/Appointment',
      json: resource,
      headers: { 'content-type': FHIR_JSON },
      idempotencyKey: key,
    });
    return createdId(answer, 'Appointment');
  }

  async createTickler(patientId: string, message: string, dueDate: string, key: string): Promise<string> {
    const task: Task = {
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      identifier: [{ system: COMMAND_SYSTEM, value: key }],
      description: message,
      for: { reference: `Patient/${patientId}` },
      restriction: { period: { end: dueDate } },
    };
    const answer = await this.http.call({
      method: 'POST',
      path: '/Task',
      json: task,
      headers: { 'content-type': FHIR_JSON },
      idempotencyKey: key,
    });
    return createdId(answer, 'Task');
  }
}
