import type { EmrAdapter, EmrCredentials } from './emr-adapter';
import type { AppointmentInput, EmrAppointment, EmrPatient, EmrProvider } from './emr-records';
import { clientCredentialsHttp, type AdapterSettings, type EmrHttp, type TokenCache } from './http';

type AccuroCredentials = Extract<EmrCredentials, { type: 'accuro' }>;

interface AccuroAppointment {
  appointmentId: number;
  providerId: number;
  patientId: number;
  date: string;
  startTime: string;
  length: number;
  status: { arrived: boolean; cancelled: boolean };
}

/**
 * Accuro (QHR) REST API: OAuth 2 client credentials of the tenant's 'OceanAPI[tenant]' user
 * (tenant_id in the token request); the user's per-provider permissions decide which schedules
 * it may read (a 403 names the provider and the missing permission columns).
 */
export class AccuroAdapter implements EmrAdapter {
  readonly type = 'accuro' as const;
  private readonly http: EmrHttp;
  private readonly tokens: TokenCache;

  constructor(credentials: AccuroCredentials, baseUrl: string, settings: AdapterSettings) {
    ({ http: this.http, tokens: this.tokens } = clientCredentialsHttp(baseUrl, settings, {
      grant_type: 'client_credentials',
      tenant_id: credentials.tenant,
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
    }));
  }

  async authenticate(): Promise<void> {
    await this.tokens.fresh();
  }

  async providers(): Promise<EmrProvider[]> {
    const body = await this.http.call<{ providerId: number; firstName: string; lastName: string }[]>({
      method: 'GET',
      path: '/rest/v1/providers',
    });
    return body.map((p) => ({ id: String(p.providerId), name: `${p.firstName} ${p.lastName}` }));
  }

  async appointments(providerId: string, from: string, to: string): Promise<EmrAppointment[]> {
    const body = await this.http.call<AccuroAppointment[]>({
      method: 'GET',
      path: '/rest/v1/scheduler/appointments',
      query: { providerId, startDate: from, endDate: to },
    });
    return body.map((a) => ({
      id: String(a.appointmentId),
      providerId: String(a.providerId),
      patientId: String(a.patientId),
      start: new Date(`${a.date}T${a.startTime}:00Z`).toISOString(),
      durationMinutes: a.length,
      status: a.status.cancelled ? 'cancelled' : a.status.arrived ? 'arrived' : 'booked',
    }));
  }

  async findPatients(healthNumber: string): Promise<EmrPatient[]> {
    const body = await this.http.call<{ patientId: number; demographics?: { birthday?: string } }[]>({
      method: 'GET',
      path: '/rest/v1/patients',
      query: { healthNumber },
    });
    return body.map((p) => ({
      id: String(p.patientId),
      healthNumber,
      birthDate: p.demographics?.birthday,
    }));
  }

  async saveProgressNote(patientId: string, text: string, key: string): Promise<string> {
    return this.http.create(
      'noteId',
      `/rest/v1/patients/${encodeURIComponent(patientId)}/chart-notes`,
      { content: text, author: 'OceanAPI', referenceId: key },
      key,
    );
  }

  async attachPdf(patientId: string, title: string, pdfBase64: string, key: string): Promise<string> {
    return this.http.create(
      'documentId',
      `/rest/v1/patients/${encodeURIComponent(patientId)}/documents`,
      { fileName: title, contentType: 'application/pdf', data: pdfBase64, referenceId: key },
      key,
    );
  }

  async findWritten(entry: 'note' | 'document', patientId: string, key: string): Promise<string | null> {
    const list = await this.http.call<{ id: number | string; referenceId: string | null }[]>({
      method: 'GET',
      path: `/rest/v1/patients/${encodeURIComponent(patientId)}/${entry === 'note' ? 'chart-notes' : 'documents'}`,
      query: { referenceId: key },
    });
    const found = list.find((e) => e.referenceId === key);
    return found ? String(found.id) : null;
  }

  async markArrived(appointmentId: string, key: string): Promise<void> {
    await this.http.call({
      method: 'PUT',
      path: `/rest/v1/scheduler/appointments/${encodeURIComponent(appointmentId)}/status`,
      json: { status: 'ARRIVED' },
      idempotencyKey: key,
    });
  }

  async upsertAppointment(input: AppointmentInput, key: string): Promise<string> {
    const body = await this.http.call<{ appointmentId: number }>({
      method: input.appointmentId ? 'PUT' : 'POST',
      path: `/rest/v1/scheduler/appointments${input.appointmentId ? `/${encodeURIComponent(input.appointmentId)}` : ''}`,
      json: {
        providerId: input.providerId,
        patientId: input.patientId,
        date: input.start.slice(0, 10),
        startTime: input.start.slice(11, 16),
        length: input.durationMinutes,
        reason: input.reason,
      },
      idempotencyKey: key,
    });
    return String(body.appointmentId);
  }

  async createTickler(patientId: string, message: string, dueDate: string, key: string): Promise<string> {
    return this.http.create('taskId', '/rest/v1/tasks', { patientId, subject: message, dueDate }, key);
  }
}
