import { EmrError, type EmrAdapter } from '../adapters/emr-adapter';
import { matchPatient } from './patient-match';
import type { EmrSettings } from '../settings/emr-settings';
import { commandContent, type CommandKind } from './command-content';

/**
 * One attempt's write: `lookFirst` (an earlier attempt may have written it: read the chart
 * before writing), and `refused`, set when the EMR answered this attempt's note or document
 * write with an error status (it did not write it, so no read-back is owed next time).
 */
export interface WriteAttempt {
  lookFirst: boolean;
  refused: boolean;
  /** Called just before a note or document write is sent (the caller records it durably). */
  beforeWrite?: () => Promise<void>;
}

export interface ApplyResult {
  outcome: 'applied' | 'skipped';
  emrRecordId: string | null;
}

function dayOf(iso: string): string {
  return iso.slice(0, 10);
}

/**
 * Applies one command's (opened) content through the site's adapter; `key` is the idempotency key
 * the EMR dedupes on (the command id, or the combined sitting's key), also written as the entry's
 * reference where the EMR keeps one. With `attempt.lookFirst` (an earlier attempt may have
 * written it), a note or document is first looked for in the chart by that reference, where the
 * EMR can be read back, and not written again if it is there.
 */
export async function applyCommand(
  adapter: EmrAdapter,
  kind: CommandKind,
  content: unknown,
  key: string,
  settings: EmrSettings,
  allProviderIds: string[],
  chosenPatientId: string | null = null,
  attempt: WriteAttempt = { lookFirst: false, refused: false },
): Promise<ApplyResult> {
  const written = async (entry: 'note' | 'document', patientId: string): Promise<string | null> =>
    attempt.lookFirst && adapter.findWritten ? adapter.findWritten(entry, patientId, key) : null;
  const send = async (write: () => Promise<string>): Promise<string> => {
    await attempt.beforeWrite?.();
    try {
      return await write();
    } catch (error) {
      if (error instanceof EmrError && error.facts.status !== undefined) attempt.refused = true;
      throw error;
    }
  };
  const patientOf = (
    adapter: EmrAdapter,
    p: { healthNumber: string; birthDate?: string | undefined },
  ): ReturnType<typeof matchPatient> => matchPatient(adapter, p, chosenPatientId);
  switch (kind) {
    case 'save-progress-note': {
      const c = commandContent[kind].parse(content);
      const patient = await patientOf(adapter, c.patient);
      const text = c.title ? `${c.title}\n${c.text}` : c.text;
      const earlier = await written('note', patient.id);
      if (earlier) return { outcome: 'applied', emrRecordId: earlier };
      return {
        outcome: 'applied',
        emrRecordId: await send(() => adapter.saveProgressNote(patient.id, text, key)),
      };
    }
    case 'attach-pdf': {
      const c = commandContent[kind].parse(content);
      if (!settings.importAttachmentsAsPdf) return { outcome: 'skipped', emrRecordId: null };
      const patient = await patientOf(adapter, c.patient);
      const earlier = await written('document', patient.id);
      if (earlier) return { outcome: 'applied', emrRecordId: earlier };
      return {
        outcome: 'applied',
        emrRecordId: await send(() => adapter.attachPdf(patient.id, c.title, c.pdfBase64, key)),
      };
    }
    case 'mark-arrived': {
      const c = commandContent[kind].parse(content);
      const patient = await patientOf(adapter, c.patient);
      const from = Date.parse(c.checkedInAt);
      const until = from + settings.markArrivedWithinHours * 3600000;
      const providers = settings.syncProviderIds.length > 0 ? settings.syncProviderIds : allProviderIds;
      const marked: string[] = [];
      for (const providerId of providers) {
        let appointments;
        try {
          appointments = await adapter.appointments(
            providerId,
            dayOf(c.checkedInAt),
            dayOf(new Date(until).toISOString()),
          );
        } catch (error) {
          // A schedule we may not read cannot hold this patient's appointment for us; the sync reports it.
          if (error instanceof EmrError && error.code === 'permission') continue;
          throw error;
        }
        for (const a of appointments) {
          const start = Date.parse(a.start);
          if (
            a.patientId === patient.id &&
            a.status === 'booked' &&
            start >= from - 30 * 60000 &&
            start <= until
          ) {
            await adapter.markArrived(a.id, `${key}:${a.id}`);
            marked.push(a.id);
          }
        }
      }
      return { outcome: marked.length > 0 ? 'applied' : 'skipped', emrRecordId: marked.join(',') || null };
    }
    case 'upsert-appointment': {
      const c = commandContent[kind].parse(content);
      const patient = await patientOf(adapter, c.patient);
      const id = await adapter.upsertAppointment(
        {
          appointmentId: c.appointmentId,
          providerId: c.providerId,
          patientId: patient.id,
          start: c.start,
          durationMinutes: c.durationMinutes,
          reason: c.reason,
        },
        key,
      );
      return { outcome: 'applied', emrRecordId: id };
    }
    case 'create-tickler': {
      const c = commandContent[kind].parse(content);
      const patient = await patientOf(adapter, c.patient);
      return {
        outcome: 'applied',
        emrRecordId: await adapter.createTickler(patient.id, c.message, c.dueDate, key),
      };
    }
  }
}
