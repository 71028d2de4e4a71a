import { createHash, randomUUID } from 'node:crypto';
import {
  ACCURO_PERMISSIONS,
  type SimAppointment,
  type SimDocument,
  type SimInstance,
  type SimNote,
  type SimPatient,
  type SimProvider,
} from './world';

/** An answer the HTTP layer renders in the dialect's error shape. */
export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The EMR's behaviour, shared by every dialect: the dialects only change shapes and auth. */
/**
 * A write into a patient's chart: retried with the same Idempotency-Key (`key`), filed under the
 * writer's reference `externalId` (none: null or '').
 */
interface ChartWrite {
  patientId: string;
  key: string | null;
  externalId?: string | null;
}

export interface NoteInput extends ChartWrite {
  text: string;
  author: string;
}

export interface DocumentInput extends ChartWrite {
  title: string;
  contentType: string;
  base64: string;
}

export interface TicklerInput extends Omit<ChartWrite, 'externalId'> {
  message: string;
  dueDate: string;
  /** Who the task is for (none: null or ''). */
  assignee: string | null;
}

export const ops = {
  providers(instance: SimInstance): SimProvider[] {
    return instance.providers;
  },

  /** Appointments of one provider in [from, to] (dates, inclusive); 403 without schedule permission. */
  appointments(instance: SimInstance, providerId: string, from: string, to: string): SimAppointment[] {
    const provider = instance.providers.find((p) => p.id === providerId);
    if (!provider) throw new SimHttpError(404, 'not_found', `provider ${providerId} not found`);
    const missing = ACCURO_PERMISSIONS.filter((p) => !provider.permissions.includes(p));
    if (missing.includes('Scheduling')) {
      throw new SimHttpError(
        403,
        'insufficient_permissions',
        `user may not view the schedule of provider ${providerId}`,
        { providerId, missingPermissions: missing },
      );
    }
    const start = `${from}T00:00:00.000Z`;
    const end = `${to}T23:59:59.999Z`;
    return instance.appointments.filter(
      (a) => a.providerId === providerId && a.start >= start && a.start <= end,
    );
  },

  patientByHealthNumber(instance: SimInstance, healthNumber: string): SimPatient[] {
    return instance.patients.filter((p) => p.healthNumber === healthNumber);
  },

  patient(instance: SimInstance, id: string): SimPatient {
    const patient = instance.patients.find((p) => p.id === id);
    if (!patient) throw new SimHttpError(404, 'not_found', `patient ${id} not found`);
    return patient;
  },

  addNote(instance: SimInstance, { patientId, text, author, key, externalId }: NoteInput): { id: string } {
    ops.patient(instance, patientId);
    if (!text) throw new SimHttpError(400, 'invalid', 'note text is required');
    const note = {
      id: randomUUID(),
      patientId,
      text,
      author,
      createdAt: new Date().toISOString(),
      idempotencyKey: key,
      externalId: externalId || null,
    };
    instance.notes.push(note);
    return { id: note.id };
  },

  addDocument(
    instance: SimInstance,
    { patientId, title, contentType, base64, key, externalId }: DocumentInput,
  ): { id: string } {
    ops.patient(instance, patientId);
    const bytes = Buffer.from(base64, 'base64');
    if (contentType !== 'application/pdf' || !bytes.subarray(0, 5).equals(Buffer.from('%PDF-'))) {
      throw new SimHttpError(415, 'unsupported', 'documents must be PDF');
    }
    const doc = {
      id: randomUUID(),
      patientId,
      title,
      contentType,
      sizeBytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      createdAt: new Date().toISOString(),
      idempotencyKey: key,
      externalId: externalId || null,
    };
    Object.defineProperty(doc, 'content', { value: bytes, enumerable: false });
    instance.documents.push(doc);
    return { id: doc.id };
  },

  /** A patient's chart entries, optionally only those written under one external reference. */
  chartOf(
    instance: SimInstance,
    patientId: string,
    externalId: string | null,
  ): { notes: SimNote[]; documents: SimDocument[] } {
    ops.patient(instance, patientId);
    const mine = <T extends { patientId: string; externalId?: string | null }>(list: T[]): T[] =>
      list.filter((e) => e.patientId === patientId && (!externalId || e.externalId === externalId));
    return { notes: mine(instance.notes), documents: mine(instance.documents) };
  },

  markArrived(instance: SimInstance, appointmentId: string): SimAppointment {
    const appointment = instance.appointments.find((a) => a.id === appointmentId);
    if (!appointment) throw new SimHttpError(404, 'not_found', `appointment ${appointmentId} not found`);
    appointment.status = 'arrived';
    return appointment;
  },

  upsertAppointment(instance: SimInstance, input: Partial<SimAppointment> & { id?: string }): SimAppointment {
    const existing = input.id ? instance.appointments.find((a) => a.id === input.id) : undefined;
    if (input.id && !existing) throw new SimHttpError(404, 'not_found', `appointment ${input.id} not found`);
    if (existing) {
      Object.assign(
        existing,
        Object.fromEntries(Object.entries(input).filter(([k, v]) => k !== 'id' && v !== undefined)),
      );
      return existing;
    }
    if (!input.providerId || !input.patientId || !input.start) {
      throw new SimHttpError(400, 'invalid', 'providerId, patientId and start are required');
    }
    ops.patient(instance, input.patientId);
    const created: SimAppointment = {
      id: String(900000 + instance.appointments.length),
      providerId: input.providerId,
      patientId: input.patientId,
      start: input.start,
      durationMinutes: input.durationMinutes ?? 15,
      reason: input.reason ?? 'Visit',
      status: input.status ?? 'booked',
    };
    instance.appointments.push(created);
    return created;
  },

  addTickler(
    instance: SimInstance,
    { patientId, message, dueDate, assignee, key }: TicklerInput,
  ): { id: string } {
    ops.patient(instance, patientId);
    const tickler = {
      id: randomUUID(),
      patientId,
      message,
      dueDate,
      assignee: assignee || null,
      idempotencyKey: key,
    };
    instance.ticklers.push(tickler);
    return { id: tickler.id };
  },
};
