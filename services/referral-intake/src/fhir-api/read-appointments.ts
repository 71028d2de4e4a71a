import { createHmac } from 'node:crypto';
import type { Appointment, BundleEntry, Patient } from '@medplum/fhirtypes';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { outcomeAnswer, type FhirAnswer } from '../fhir-messages/operation-outcome';
import { allows } from '../oauth/scopes';
import { parseAppointmentQuery, type AppointmentQuery } from './appointment-search';
import {
  decryptInBatches,
  forbidden,
  runSearch,
  type Caller,
  type PageRequest,
  type ReadDeps,
  type SearchPage,
  type SearchRequest,
} from './read-referrals';
import { ReferralReadsRepository } from './referral-reads.repository';
import { SyncedAppointmentsRepository, type SyncedAppointmentRow } from './synced-appointments.repository';

/** A synced appointment as the EMR gateway seals it (emr-gateway `SyncedAppointment`). */
const syncedContent = z.object({
  id: z.string().min(1),
  providerId: z.string(),
  providerName: z.string().nullable(),
  patientId: z.string().min(1),
  start: z.string().min(1),
  durationMinutes: z.number().nonnegative(),
  status: z.enum(['booked', 'arrived', 'cancelled']),
});
type SyncedContent = z.infer<typeof syncedContent>;

/** The record id a synced appointment's envelope is bound to (with the site). */
export function syncedAppointmentRecordId(appointmentId: string): string {
  return `emr-appointment/${appointmentId}`;
}

/** Identifier systems of the EMR's own ids, one per site (the ids mean nothing elsewhere). */
const EMR_ID_SYSTEM = 'https://cloudconnect.ca/fhir/sid/site';
const PATIENT_ID = /^emr-[0-9a-f]{32}$/;

/**
 * Appointments from the site's EMR syncs: stored from `appointments.synced` (sealed as they came)
 * and served to the site's OAuth clients as FHIR R4 `Appointment` and the `Patient` each refers
 * to, with the pull API's snapshot paging by `_lastUpdated`.
 */
export class ReadAppointments {
  private readonly repo: SyncedAppointmentsRepository;
  private readonly snapshots: ReferralReadsRepository;

  constructor(
    /** `hashKey` keys the hashes kept in clear (patient id, content). */
    private readonly deps: ReadDeps & { hashKey: string },
  ) {
    this.repo = new SyncedAppointmentsRepository(deps.schema);
    this.snapshots = new ReferralReadsRepository(deps.schema);
  }

  /** Stores one event's appointments (opened once here to check them and key the patient). */
  async store(
    tx: Pick<EntityManager, 'query'>,
    site: string,
    appointments: { appointmentId: string; sealed: { envelope: string } }[],
  ): Promise<number> {
    let written = 0;
    const items = appointments.map((a) => ({
      appointmentId: a.appointmentId,
      data: Buffer.from(a.sealed.envelope, 'base64'),
    }));
    const opened = await decryptInBatches(
      this.deps.cipher,
      site,
      items.map((b) => ({ recordId: syncedAppointmentRecordId(b.appointmentId), data: b.data })),
    );
    for (const [index, plaintext] of opened.entries()) {
      const item = items[index];
      if (!item) continue;
      const content = syncedContent.parse(JSON.parse(plaintext.toString('utf8')));
      if (content.id !== item.appointmentId) throw new Error('a synced appointment names another id');
      const stored = await this.repo.upsert(tx, site, {
        appointmentId: item.appointmentId,
        patientKey: this.hash(site, 'patient', content.patientId),
        contentMac: this.hash(site, 'content', plaintext.toString('utf8')),
        sealed: item.data,
      });
      if (stored) written += 1;
    }
    return written;
  }

  search(request: SearchRequest): Promise<FhirAnswer> {
    const deps = { ...this.deps, snapshots: this.snapshots };
    return runSearch(deps, 'Appointment', parseAppointmentQuery, request, (page) => this.page(page));
  }

  /** A page of synced appointments from the cursor on, with their patients when `_include`d. */
  private async page(request: PageRequest<AppointmentQuery>): Promise<SearchPage> {
    const { caller, fhirBase, query, cursor, snapshot } = request;
    const db = this.deps.dataSource.manager;
    // One more row than the page tells whether there is a next page.
    const rows = await this.repo.page(db, caller.site, {
      snapshot,
      after: cursor ? { lastUpdated: cursor.t, id: cursor.i } : null,
      ids: query.ids,
      lastUpdated: query.lastUpdated,
      limit: query.count + 1,
    });
    const page = rows.slice(0, query.count);
    const contents = await this.open(caller.site, page);
    const includePatients = query.includePatient && allows(caller.scopes, 'Patient', 'r');
    const entries: BundleEntry[] = [];
    const included = new Set<string>();
    for (const [index, row] of page.entries()) {
      const content = contents[index];
      if (!content) continue;
      entries.push({
        fullUrl: `${fhirBase}/Appointment/${row.id}`,
        resource: this.appointment(caller.site, row, content),
        search: { mode: 'match' },
      });
      const patientUrl = `${fhirBase}/Patient/emr-${row.patientKey}`;
      if (includePatients && !included.has(patientUrl)) {
        included.add(patientUrl);
        entries.push({
          fullUrl: patientUrl,
          resource: this.patient(caller.site, row, content),
          search: { mode: 'include' },
        });
      }
    }
    const last = page[page.length - 1];
    const next = rows.length > query.count && last ? { s: snapshot, t: last.lastUpdated, i: last.id } : null;
    return { entries, next };
  }

  async read(caller: Caller, id: string): Promise<FhirAnswer> {
    if (!allows(caller.scopes, 'Appointment', 'r')) return forbidden('system/Appointment.r (or .read)');
    const row = /^[0-9a-f-]{36}$/.test(id)
      ? await this.repo.byId(this.deps.dataSource.manager, caller.site, id)
      : null;
    const content = row ? (await this.open(caller.site, [row]))[0] : undefined;
    if (!row || !content) return outcomeAnswer(404, 'not-found', `Appointment/${id} is not known`);
    return { status: 200, body: this.appointment(caller.site, row, content) };
  }

  async readPatient(caller: Caller, id: string): Promise<FhirAnswer> {
    if (!allows(caller.scopes, 'Patient', 'r')) return forbidden('system/Patient.r (or .read)');
    const row = PATIENT_ID.test(id)
      ? await this.repo.latestOfPatient(this.deps.dataSource.manager, caller.site, id.slice(4))
      : null;
    const content = row ? (await this.open(caller.site, [row]))[0] : undefined;
    if (!row || !content) return outcomeAnswer(404, 'not-found', `Patient/${id} is not known`);
    return { status: 200, body: this.patient(caller.site, row, content) };
  }

  private async open(site: string, rows: SyncedAppointmentRow[]): Promise<SyncedContent[]> {
    const opened = await decryptInBatches(
      this.deps.cipher,
      site,
      rows.map((r) => ({ recordId: syncedAppointmentRecordId(r.appointmentId), data: r.sealed })),
    );
    return opened.map((p) => syncedContent.parse(JSON.parse(p.toString('utf8'))));
  }

  private appointment(site: string, row: SyncedAppointmentRow, content: SyncedContent): Appointment {
    const start = new Date(content.start);
    return {
      resourceType: 'Appointment',
      id: row.id,
      meta: { lastUpdated: row.lastUpdated },
      identifier: [{ system: `${EMR_ID_SYSTEM}/${site}/emr-appointment`, value: content.id }],
      status: content.status,
      start: start.toISOString(),
      end: new Date(start.getTime() + content.durationMinutes * 60000).toISOString(),
      minutesDuration: content.durationMinutes,
      participant: [
        { actor: { reference: `Patient/emr-${row.patientKey}` }, status: 'accepted' },
        ...(content.providerName
          ? [{ actor: { display: content.providerName }, status: 'accepted' as const }]
          : []),
      ],
    };
  }

  private patient(site: string, row: SyncedAppointmentRow, content: SyncedContent): Patient {
    return {
      resourceType: 'Patient',
      id: `emr-${row.patientKey}`,
      meta: { lastUpdated: row.lastUpdated },
      identifier: [{ system: `${EMR_ID_SYSTEM}/${site}/emr-patient`, value: content.patientId }],
    };
  }

  private hash(site: string, purpose: string, value: string): string {
    return createHmac('sha256', `synced-appointment/${purpose}/${this.deps.hashKey}`)
      .update(`${site}\n${value}`)
      .digest('hex')
      .slice(0, 32);
  }
}
