import type { EmrAdapter, EmrCredentials } from './emr-adapter';
import type { AppointmentInput, EmrAppointment, EmrPatient, EmrProvider } from './emr-records';
import { clientCredentialsHttp, type AdapterSettings, type EmrHttp, type TokenCache } from './http';

type TelusCredentials = Extract<EmrCredentials, { type: 'ps-suite' | 'med-access' }>;

interface TelusAppointment {
  appointmentId: string;
  providerId: string;
  patientId: string;
  startTime: string;
  durationMinutes: number;
  status: string;
}

function status(value: string): EmrAppointment['status'] {
  return value === 'ARRIVED' ? 'arrived' : value === 'CANCELLED' ? 'cancelled' : 'booked';
}

/**
 * PS Suite and Med Access through TELUS Health's integration endpoint: OAuth 2 client credentials
 * with the EMR Instance ID as client_id and the EMR Secret as client_secret; JSON resources.
 */
export class TelusAdapter implements EmrAdapter {
  readonly type: TelusCredentials['type'];
  private readonly http: EmrHttp;
  private readonly tokens: TokenCache;

  constructor(credentials: TelusCredentials, baseUrl: string, settings: AdapterSettings) {
    this.type = credentials.type;
    ({ http: this.http, tokens: this.tokens } = clientCredentialsHttp(baseUrl, settings, {
      grant_type: 'client_credentials',
      client_id: credentials.instanceId,
      client_secret: credentials.secret,
    }));
  }

  async authenticate(): Promise<void> {
    await this.tokens.fresh();
  }

  async providers(): Promise<EmrProvider[]> {
    const body = await this.http.call<{
      providers: { providerId: string; firstName: string; lastName: string }[];
    }>({ method: 'GET', path: '/providers' });
    return body.providers.map((p) => ({ id: p.providerId, name: `${p.firstName} ${p.lastName}` }));
  }

  async appointments(providerId: string, from: string, to: string): Promise<EmrAppointment[]> {
    const body = await this.http.call<{ appointments: TelusAppointment[] }>({
      method: 'GET',
      path: '/appointments',
      query: { providerId, startDate: from, endDate: to },
    });
    return body.appointments.map((a) => ({
      id: a.appointmentId,
      providerId: a.providerId,
      patientId: a.patientId,
      start: a.startTime,
      durationMinutes: a.durationMinutes,
      status: status(a.status),
    }));
  }

  async findPatients(healthNumber: string): Promise<EmrPatient[]> {
    const body = await this.http.call<{
      patients: { patientId: string; healthCardNumber: string; dateOfBirth?: string }[];
    }>({
      method: 'GET',
      path: '/patients',
      query: { healthCardNumber: healthNumber },
    });
    return body.patients.map((p) => ({
      id: p.patientId,
      healthNumber: p.healthCardNumber,
      birthDate: p.dateOfBirth,
    }));
  }

  async saveProgressNote(patientId: string, text: string, key: string): Promise<string> {
    return this.http.create(
      'noteId',
      `/patients/${encodeURIComponent(patientId)}/progress-notes`,
      { text, author: 'Ocean', externalId: key },
      key,
    );
  }

  async attachPdf(patientId: string, title: string, pdfBase64: string, key: string): Promise<string> {
    return this.http.create(
      'documentId',
      `/patients/${encodeURIComponent(patientId)}/documents`,
      { title, mimeType: 'application/pdf', content: pdfBase64, externalId: key },
      key,
    );
  }

  async findWritten(entry: 'note' | 'document', patientId: string, key: string): Promise<string | null> {
    const path = `/patients/${encodeURIComponent(patientId)}/${entry === 'note' ? 'progress-notes' : 'documents'}`;
    const body = await this.http.call<{
      progressNotes?: { noteId: string; externalId: string | null }[];
      documents?: { documentId: string; externalId: string | null }[];
    }>({ method: 'GET', path, query: { externalId: key } });
    const found =
      entry === 'note'
        ? body.progressNotes?.find((n) => n.externalId === key)?.noteId
        : body.documents?.find((d) => d.externalId === key)?.documentId;
    return found ?? null;
  }

  async markArrived(appointmentId: string, key: string): Promise<void> {
    await this.http.call({
      method: 'POST',
      path: `/appointments/${encodeURIComponent(appointmentId)}/arrival`,
      idempotencyKey: key,
    });
  }

  async upsertAppointment(input: AppointmentInput, key: string): Promise<string> {
    const body = await this.http.call<{ appointmentId: string }>({
      method: input.appointmentId ? 'PUT' : 'POST',
      path: input.appointmentId
        ? `/appointments/${encodeURIComponent(input.appointmentId)}`
        : '/appointments',
      json: {
        providerId: input.providerId,
        patientId: input.patientId,
        startTime: input.start,
        durationMinutes: input.durationMinutes,
        reason: input.reason,
      },
      idempotencyKey: key,
    });
    return body.appointmentId;
  }

  async createTickler(patientId: string, message: string, dueDate: string, key: string): Promise<string> {
    return this.http.create(
      'taskId',
      `/patients/${encodeURIComponent(patientId)}/tasks`,
      { description: message, dueDate },
      key,
    );
  }
}
