import { domainErrorClass } from '@cloud-connect/errors';
import { isValidHeaderName } from '@cloud-connect/service-kit';
import { z } from 'zod';
import type { AppointmentInput, EmrAppointment, EmrPatient, EmrProvider } from './emr-records';

export const EMR_TYPES = ['ps-suite', 'med-access', 'accuro', 'oscar-pro', 'chr', 'fhir-r4'] as const;
export type EmrType = (typeof EMR_TYPES)[number];

export const EMR_TYPE_NAMES: Record<EmrType, string> = {
  'ps-suite': 'PS Suite',
  'med-access': 'Med Access',
  accuro: 'Accuro',
  'oscar-pro': 'OSCAR Pro',
  chr: 'CHR',
  'fhir-r4': 'FHIR R4 EMR',
};

const secretText = (what: string) => z.string().trim().min(1, `${what} is required`).max(500);
const httpUrl = z.url({ protocol: /^https?$/, error: 'baseUrl must be an http(s) URL' });

/** What a site admin enters per EMR type (seed 000); kept in Vault only. */
export const emrCredentials = z.discriminatedUnion(
  'type',
  [
    z.object({
      type: z.literal('ps-suite'),
      instanceId: secretText('EMR Instance ID'),
      secret: secretText('EMR Secret'),
    }),
    z.object({
      type: z.literal('med-access'),
      instanceId: secretText('EMR Instance ID'),
      secret: secretText('EMR Secret'),
    }),
    z.object({
      type: z.literal('accuro'),
      tenant: z
        .string()
        .trim()
        .regex(/^[0-9A-Za-z-]{1,40}$/, 'tenant is the Accuro tenant ID'),
      clientId: secretText('API client ID'),
      clientSecret: secretText('API client secret'),
    }),
    z.object({
      type: z.literal('oscar-pro'),
      baseUrl: httpUrl,
      username: secretText('username'),
      password: secretText('password'),
      /** Null when the OSCAR Pro uses Pro Auth (no PIN field at its login). */
      pin: z.string().trim().min(1).max(20).nullable().default(null),
    }),
    ...(['chr', 'fhir-r4'] as const).map((type) =>
      z.object({
        type: z.literal(type),
        baseUrl: httpUrl,
        auth: z.discriminatedUnion('kind', [
          z.object({
            kind: z.literal('api-key'),
            apiKey: secretText('API key'),
            header: z
              .string()
              .refine(isValidHeaderName, 'header must be an HTTP header name (letters, digits, dashes)')
              .default('X-API-Key'),
          }),
          z.object({
            kind: z.literal('client-credentials'),
            clientId: secretText('client ID'),
            clientSecret: secretText('client secret'),
            tokenUrl: httpUrl.optional(),
          }),
        ]),
      }),
    ),
  ],
  { error: `type must be one of ${EMR_TYPES.join(', ')}` },
);
export type EmrCredentials = z.output<typeof emrCredentials>;
export type EmrCredentialsInput = z.input<typeof emrCredentials>;

/** The codes of EMR failure, each with one queue behaviour (see commands/failure-policy.ts). */
export type EmrErrorCode =
  'auth-rejected' | 'unreachable' | 'transient' | 'permission' | 'not-found' | 'invalid' | 'unsupported';

/** What an EMR answer said, safe to keep: ids and HTTP facts only. */
export interface EmrFacts {
  providerId?: string;
  missingPermissions?: string[];
  status?: number;
}

/** A typed EMR failure. Messages never carry PHI: ids and HTTP facts only. */
export class EmrError extends domainErrorClass<EmrErrorCode>('emr', {
  unreachable: 'unavailable',
  transient: 'unavailable',
  'not-found': 'not-found',
  'auth-rejected': 'unprocessable',
  permission: 'unprocessable',
  invalid: 'unprocessable',
  unsupported: 'unprocessable',
}) {
  constructor(
    code: EmrErrorCode,
    message: string,
    readonly facts: EmrFacts = {},
  ) {
    super(code, message);
  }
}

/** One EMR, as the gateway needs it. Writes take an idempotency key the EMR side dedupes on. */
export interface EmrAdapter {
  readonly type: EmrType;
  /** Authenticates now (connect / reconfigure); throws EmrError. */
  authenticate(): Promise<void>;
  providers(): Promise<EmrProvider[]>;
  /** Appointments of one provider between two dates (YYYY-MM-DD, inclusive). */
  appointments(providerId: string, from: string, to: string): Promise<EmrAppointment[]>;
  /** Every chart whose health card number is this one (0, 1 or several: matching decides). */
  findPatients(healthNumber: string): Promise<EmrPatient[]>;
  saveProgressNote(patientId: string, text: string, key: string): Promise<string>;
  attachPdf(patientId: string, title: string, pdfBase64: string, key: string): Promise<string>;
  markArrived(appointmentId: string, key: string): Promise<void>;
  upsertAppointment(input: AppointmentInput, key: string): Promise<string>;
  /** Throws EmrError('unsupported') where the EMR has no ticklers/tasks. */
  createTickler(patientId: string, message: string, dueDate: string, key: string): Promise<string>;
  /**
   * Read-back, where the EMR lists a chart's entries with the reference we wrote them under: the
   * id of the note / document filed in this chart with reference `key`, or null. Absent where
   * the EMR cannot be read back that way (docs/emr.md, "Exactly once, per EMR type").
   */
  findWritten?(entry: 'note' | 'document', patientId: string, key: string): Promise<string | null>;
}

/** Where an EMR admin grants the missing per-provider permissions (seed 003, Accuro). */
export const ACCURO_PERMISSION_HINT =
  '(in the EMR: Users > Manage Security > the Ocean API user > Provider Permissions, then run a full sync)';
