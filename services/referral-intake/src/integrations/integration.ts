import { domainErrorClass } from '@cloud-connect/errors';
import { checkEgressUrl, EgressError, type EgressPolicy } from '@cloud-connect/service-kit';
import { z } from 'zod';

export const INTEGRATION_TYPE = 'ereferral';
export const PAYLOAD_TYPE = 'fhir-r4-ereferral-0.11.1';
export const DEFAULT_AUTH_HEADER = 'Referral-Integration-API-Key';

export interface IntegrationKeySummary {
  id: string;
  hint: string;
  origin: 'generated' | 'supplied';
  createdAt: string;
  expiresAt: string | null;
}

/** An integration as the admin API and the CLI show it: never a key, never the outbound credential. */
export interface IntegrationView {
  id: string;
  siteNumber: string;
  name: string;
  type: typeof INTEGRATION_TYPE;
  payloadType: typeof PAYLOAD_TYPE;
  authHeaderName: string;
  requestUrl: string | null;
  sendCopies: boolean;
  hasOutboundKey: boolean;
  enabled: boolean;
  rateLimitPerSecond: number | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  keys: IntegrationKeySummary[];
}

export type IntegrationErrorCode =
  | 'invalid-integration'
  | 'integration-not-found'
  | 'integration-exists'
  | 'sek-required'
  | 'encryption-unavailable';

export class IntegrationError extends domainErrorClass<IntegrationErrorCode>('integrations', {
  'invalid-integration': 'invalid',
  'integration-not-found': 'not-found',
  'integration-exists': 'conflict',
  'sek-required': 'conflict',
  'encryption-unavailable': 'unavailable',
}) {}

const RESERVED_HEADERS = new Set([
  'host',
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
  'cookie',
  'accept',
  'traceparent',
]);

export const authHeaderName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/, 'a header name is letters, digits and dashes (at most 64)')
  .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), 'this header name is reserved by HTTP');

export const siteNumber = z
  .string()
  .regex(/^[1-9][0-9]{0,9}$/, 'a site number is 1 to 10 digits, not starting with 0');

function requestUrl(egress: EgressPolicy) {
  return z
    .string()
    .max(2000)
    .superRefine((value, ctx) => {
      try {
        checkEgressUrl(value, egress);
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          message: error instanceof EgressError ? error.message : 'invalid URL',
        });
      }
    });
}

export function createIntegrationInput(options: { egress: EgressPolicy }) {
  return z
    .object({
      name: z.string().trim().min(1, 'an integration needs a name').max(200),
      type: z.literal(INTEGRATION_TYPE).default(INTEGRATION_TYPE),
      payloadType: z.literal(PAYLOAD_TYPE).default(PAYLOAD_TYPE),
      authHeaderName: authHeaderName.default(DEFAULT_AUTH_HEADER),
      /** An inbound key pasted in by the admin (the CHR generated it); absent: we generate one. */
      key: z.string().optional(),
      requestUrl: requestUrl(options.egress).nullable().default(null),
      /** The credential sent in `authHeaderName` with outbound copies. */
      outboundKey: z.string().min(1).max(1024).nullable().default(null),
      sendCopies: z.boolean().default(false),
      rateLimitPerSecond: z.number().int().positive().max(100000).nullable().default(null),
    })
    .strict()
    .refine((v) => !v.sendCopies || v.requestUrl !== null, {
      path: ['requestUrl'],
      message: 'sending copies needs a request URL',
    })
    .refine((v) => !v.sendCopies || v.outboundKey !== null, {
      path: ['outboundKey'],
      message: 'sending copies needs the key the receiving endpoint expects',
    });
}

export type CreateIntegrationInput = z.input<ReturnType<typeof createIntegrationInput>>;

export const rotateKeyInput = z
  .object({
    key: z.string().optional(),
    /** How long the previous key(s) keep working, in seconds (default one day, at most 30 days). */
    overlapSeconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 24 * 3600)
      .default(24 * 3600),
  })
  .strict();

export type RotateKeyInput = z.input<typeof rotateKeyInput>;

export function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
}
