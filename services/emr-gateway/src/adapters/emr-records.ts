/**
 * What the gateway reads from and writes to an EMR, in its own terms: every adapter maps its
 * EMR's records to and from these (the contract itself is EmrAdapter, emr-adapter.ts).
 */
export interface EmrProvider {
  id: string;
  name: string;
}

export interface EmrAppointment {
  id: string;
  providerId: string;
  patientId: string;
  start: string;
  durationMinutes: number;
  status: 'booked' | 'arrived' | 'cancelled';
}

export interface EmrPatient {
  id: string;
  healthNumber: string;
  /** YYYY-MM-DD where the EMR's patient search returns it. */
  birthDate?: string | undefined;
}

export interface AppointmentInput {
  /** Present to update an existing EMR appointment. */
  appointmentId?: string | undefined;
  providerId: string;
  patientId: string;
  start: string;
  durationMinutes: number;
  reason: string;
}
