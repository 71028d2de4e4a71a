import { domainErrorClass } from '@cloud-connect/errors';
import type { EmrAdapter } from '../adapters/emr-adapter';
import type { EmrPatient } from '../adapters/emr-records';

export type PatientMatchCode = 'no-match' | 'ambiguous';

/** What a command knows about its patient (from the sealed content; plaintext in memory only). */
export interface PatientIdentity {
  healthNumber: string;
  versionCode?: string | undefined;
  province?: string | undefined;
  birthDate?: string | undefined;
}

/**
 * No chart, or more than one, fits the patient: nothing is written, the command is held until
 * an admin picks the chart. `candidates` are EMR chart ids only (no PHI).
 */
export class PatientMatchError extends domainErrorClass<PatientMatchCode>('patient-match', {
  'no-match': 'unprocessable',
  ambiguous: 'unprocessable',
}) {
  constructor(
    code: PatientMatchCode,
    readonly candidates: string[],
  ) {
    super(
      code,
      code === 'no-match'
        ? 'no chart in the EMR matches the patient (health card number and date of birth)'
        : `${candidates.length} charts in the EMR match the patient's health card number and date of birth`,
    );
  }
}

function normalized(hcn: string): string {
  return hcn.replace(/[\s-]/g, '').toUpperCase();
}

/**
 * The matching rule, pure: charts with the same health card number whose date of birth is the
 * patient's (a chart without a date of birth — an EMR whose search does not return it — matches on
 * the number alone). Exactly one → that chart; none or several → PatientMatchError.
 */
export function pickChart(patient: PatientIdentity, charts: EmrPatient[]): EmrPatient {
  const fits = charts.filter(
    (c) =>
      normalized(c.healthNumber) === normalized(patient.healthNumber) &&
      (!patient.birthDate || !c.birthDate || c.birthDate.slice(0, 10) === patient.birthDate.slice(0, 10)),
  );
  const [only] = fits;
  if (fits.length === 1 && only) return only;
  throw new PatientMatchError(
    fits.length === 0 ? 'no-match' : 'ambiguous',
    fits.map((c) => c.id),
  );
}

/** Finds the patient's chart, or uses the one a site admin picked for a held command. */
export async function matchPatient(
  adapter: EmrAdapter,
  patient: PatientIdentity,
  chosenPatientId: string | null,
): Promise<EmrPatient> {
  if (chosenPatientId) return { id: chosenPatientId, healthNumber: patient.healthNumber };
  return pickChart(patient, await adapter.findPatients(normalized(patient.healthNumber)));
}
