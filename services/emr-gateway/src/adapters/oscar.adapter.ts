import { EmrError, type EmrAdapter, type EmrCredentials } from './emr-adapter';
import type { AppointmentInput, EmrAppointment, EmrPatient, EmrProvider } from './emr-records';
import { checked, EmrHttp, type AdapterSettings } from './http';

type OscarCredentials = Extract<EmrCredentials, { type: 'oscar-pro' }>;

interface OscarAppointment {
  id: number;
  providerNo: string;
  demographicNo: number;
  appointmentDate: string;
  startTime: string;
  duration: number;
  status: string;
}

/**
 * OSCAR Pro: form login of the 'OceanConnect' EMR user (username, password and PIN; no PIN when
 * the EMR uses Pro Auth) giving a JSESSIONID session cookie; JSON web services under /ws/services.
 */
export class OscarAdapter implements EmrAdapter {
  readonly type = 'oscar-pro' as const;
  private readonly http: EmrHttp;
  private session: string | undefined;

  constructor(
    private readonly credentials: OscarCredentials,
    settings: AdapterSettings,
  ) {
    this.http = new EmrHttp(credentials.baseUrl, settings, {
      headers: async () => ({ cookie: `JSESSIONID=${await this.login()}` }),
      reset: () => {
        this.session = undefined;
      },
    });
  }

  private async login(): Promise<string> {
    if (this.session) return this.session;
    const form: Record<string, string> = {
      username: this.credentials.username,
      password: this.credentials.password,
    };
    if (this.credentials.pin) form['pin'] = this.credentials.pin;
    const response = await this.http.raw({ method: 'POST', path: '/ws/login', form });
    checked(response, 'login');
    const match = /JSESSIONID=([^;]+)/.exec(response.headers.get('set-cookie') ?? '');
    if (!match?.[1]) throw new EmrError('invalid', 'OSCAR login answered without a session');
    this.session = match[1];
    return this.session;
  }

  async authenticate(): Promise<void> {
    this.session = undefined;
    await this.login();
  }

  async providers(): Promise<EmrProvider[]> {
    const body = await this.http.call<{
      content: { providerNo: string; firstName: string; lastName: string }[];
    }>({
      method: 'GET',
      path: '/ws/services/providerService/providers',
    });
    return body.content.map((p) => ({ id: p.providerNo, name: `${p.firstName} ${p.lastName}` }));
  }

  async appointments(providerId: string, from: string, to: string): Promise<EmrAppointment[]> {
    const body = await this.http.call<{ content: OscarAppointment[] }>({
      method: 'GET',
      path: `/ws/services/schedule/${encodeURIComponent(providerId)}/appointments`,
      query: { startDate: from, endDate: to },
    });
    return body.content.map((a) => ({
      id: String(a.id),
      providerId: a.providerNo,
      patientId: String(a.demographicNo),
      start: new Date(`${a.appointmentDate}T${a.startTime}Z`).toISOString(),
      durationMinutes: a.duration,
      status: a.status === 'H' ? 'arrived' : a.status === 'C' ? 'cancelled' : 'booked',
    }));
  }

  async findPatients(healthNumber: string): Promise<EmrPatient[]> {
    const body = await this.http.call<{ content: { demographicNo: number; dob?: string }[] }>({
      method: 'GET',
      path: '/ws/services/demographics/search',
      query: { hin: healthNumber },
    });
    return body.content.map((p) => ({ id: String(p.demographicNo), healthNumber, birthDate: p.dob }));
  }

  async saveProgressNote(patientId: string, text: string, key: string): Promise<string> {
    return this.http.create(
      'noteId',
      `/ws/services/notes/${encodeURIComponent(patientId)}/saveNote`,
      { note: text, providerNo: 'OceanConnect' },
      key,
    );
  }

  async attachPdf(patientId: string, title: string, pdfBase64: string, key: string): Promise<string> {
    return this.http.create(
      'documentNo',
      `/ws/services/document/${encodeURIComponent(patientId)}/upload`,
      { docDesc: title, contentType: 'application/pdf', fileContents: pdfBase64, docType: 'consult' },
      key,
    );
  }

  async markArrived(appointmentId: string, key: string): Promise<void> {
    await this.http.call({
      method: 'POST',
      path: `/ws/services/schedule/appointment/${encodeURIComponent(appointmentId)}/updateStatus`,
      json: { status: 'H' },
      idempotencyKey: key,
    });
  }

  async upsertAppointment(input: AppointmentInput, key: string): Promise<string> {
    const body = await this.http.call<{ id: number }>({
      method: 'POST',
      path: `/ws/services/schedule/appointment${input.appointmentId ? `/${encodeURIComponent(input.appointmentId)}` : ''}`,
      json: {
        providerNo: input.providerId,
        demographicNo: input.patientId,
        appointmentDate: input.start.slice(0, 10),
        startTime: input.start.slice(11, 19),
        duration: input.durationMinutes,
        reason: input.reason,
      },
      idempotencyKey: key,
    });
    return String(body.id);
  }

  async createTickler(patientId: string, message: string, dueDate: string, key: string): Promise<string> {
    return this.http.create(
      'ticklerNo',
      '/ws/services/tickler/add',
      { demographicNo: patientId, message, serviceDate: dueDate, taskAssignedTo: 'OceanConnect' },
      key,
    );
  }
}
