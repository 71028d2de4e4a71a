import { Events } from '@cloud-connect/contracts';
import type { OutboxWriter } from '@cloud-connect/db';
import type { EventRegistry } from '@cloud-connect/kafka';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { createHash, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { PhiCipher } from '../crypto/phi-cipher';
import type { AccessClaims, AccessTokens } from '../oauth/access-tokens';
import { allows } from '../oauth/scopes';
import { mediaTypeRefusal, answeringUnavailable, type InboundAnswer } from '../fhir-messages/inbound-answers';
import { simpleOutcome } from '../fhir-messages/operation-outcome';
import { CompletedFormsRepository } from './completed-forms.repository';

/** The extension that groups the forms one patient completed in one sitting (docs/emr.md). */
export const SITTING_EXTENSION = 'https://cloudconnect.example.ca/fhir/StructureDefinition/form-sitting';
const HCN_SYSTEM_PREFIX = 'https://fhir.infoway-inforoute.ca/NamingSystem/ca-';
const MAX_FORM_BYTES = 20 * 1024 * 1024;

type Json = Record<string, unknown>;

type Sitting = { id: string; index: number; total: number };
export type InboundKind = 'questionnaire' | 'web-form' | 'kiosk-check-in';

/**
 * One inbound resource of the platform that goes to the chart: its FHIR type (and so its scope
 * `system/<type>.c`) and what makes it valid, a content problem being answered as it is.
 */
export interface InboundProfile {
  resourceType: 'QuestionnaireResponse' | 'Encounter';
  check(resource: Json): { kind: InboundKind; sitting: Sitting | null } | InboundAnswer;
}

export interface ReceiveFormDeps {
  dataSource: DataSource;
  schema: string;
  outbox: OutboxWriter;
  registry: EventRegistry;
  tokens: AccessTokens;
  cipher: PhiCipher;
  afterCommit?: () => void;
  /** What is received (default: a completed form, `QuestionnaireResponse`). */
  profile?: InboundProfile;
}

function invalid(expression: string, diagnostics: string, status = 422): InboundAnswer {
  return {
    status,
    body: {
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: status === 400 ? 'structure' : 'processing',
          diagnostics,
          expression: [expression],
        },
      ],
    },
  };
}

function arr(v: unknown): Json[] {
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as Json[]) : [];
}

/** True when any answer (at any depth) is an attachment: a website-form submission. */
function hasAttachment(items: Json[]): boolean {
  return items.some(
    (i) =>
      arr(i['answer']).some((a) => a['valueAttachment'] !== undefined || hasAttachment(arr(a['item']))) ||
      hasAttachment(arr(i['item'])),
  );
}

/** The sitting extension, validated; `null` when absent, a string when malformed. */
export function sittingOf(form: Json): { id: string; index: number; total: number } | null | string {
  const ext = arr(form['extension']).find((e) => e['url'] === SITTING_EXTENSION);
  if (!ext) return null;
  const sub = (url: string): Json | undefined => arr(ext['extension']).find((e) => e['url'] === url);
  const id = sub('id')?.['valueString'];
  const index = sub('index')?.['valueInteger'];
  const total = sub('total')?.['valueInteger'];
  if (typeof id !== 'string' || !/^[A-Za-z0-9._:-]{1,100}$/.test(id))
    return 'sitting id: 1-100 letters, digits, . _ : -';
  if (
    typeof index !== 'number' ||
    typeof total !== 'number' ||
    !Number.isInteger(index) ||
    !Number.isInteger(total)
  )
    return 'sitting index and total: integers';
  if (total < 1 || total > 50 || index < 1 || index > total) return 'sitting: 1 <= index <= total <= 50';
  return { id, index, total };
}

/** The resource's patient: a contained Patient referenced by `subject`, with a provincial health card number. */
function patientProblem(form: Json): string | null {
  const ref = (form['subject'] as Json | undefined)?.['reference'];
  if (typeof ref !== 'string' || !ref.startsWith('#'))
    return 'subject must reference a contained Patient (#id)';
  const patient = arr(form['contained']).find(
    (c) => c['resourceType'] === 'Patient' && `#${String(c['id'])}` === ref,
  );
  if (!patient) return `no contained Patient ${ref}`;
  const hcn = arr(patient['identifier']).find(
    (i) =>
      typeof i['system'] === 'string' &&
      i['system'].startsWith(HCN_SYSTEM_PREFIX) &&
      typeof i['value'] === 'string',
  );
  if (!hcn) return 'the contained Patient needs a provincial health card number identifier';
  return null;
}

/** A completed form: a questionnaire (a progress note) or a website-form submission (a PDF). */
export const COMPLETED_FORM: InboundProfile = {
  resourceType: 'QuestionnaireResponse',
  check(form) {
    if (form['status'] !== 'completed' && form['status'] !== 'amended')
      return invalid('QuestionnaireResponse.status', 'only completed (or amended) forms go to the chart');
    const patient = patientProblem(form);
    if (patient) return invalid('QuestionnaireResponse.subject', patient);
    const sitting = sittingOf(form);
    if (typeof sitting === 'string') return invalid('QuestionnaireResponse.extension', sitting);
    return { kind: hasAttachment(arr(form['item'])) ? 'web-form' : 'questionnaire', sitting };
  },
};

/**
 * A kiosk check-in: an `Encounter` with status `arrived`, the contained Patient as `subject` and
 * the check-in time as `period.start` (a dateTime with its offset). Its patient's appointments
 * within the site's "mark arrived within" window are marked arrived in the EMR (docs/emr.md).
 */
export const KIOSK_CHECK_IN: InboundProfile = {
  resourceType: 'Encounter',
  check(encounter) {
    if (encounter['status'] !== 'arrived')
      return invalid('Encounter.status', 'a kiosk check-in is an Encounter with status arrived');
    const patient = patientProblem(encounter);
    if (patient) return invalid('Encounter.subject', patient);
    const start = (encounter['period'] as Json | undefined)?.['start'];
    if (
      typeof start !== 'string' ||
      !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(start) ||
      Number.isNaN(Date.parse(start))
    )
      return invalid(
        'Encounter.period.start',
        'the check-in time (a dateTime with its time zone) is required',
      );
    return { kind: 'kiosk-check-in', sitting: null };
  },
};

/**
 * The forms platform's inbound contract: `POST /fhir/QuestionnaireResponse` with its OAuth access
 * token (scope `system/QuestionnaireResponse.c` or `.write`), one completed form per request,
 * idempotent on `QuestionnaireResponse.id` (same content → the first answer again; different
 * content under the same id → 409). Stored encrypted, then `form.completed` through the outbox.
 */
export class ReceiveCompletedForm {
  private readonly forms: CompletedFormsRepository;
  private readonly profile: InboundProfile;

  constructor(private readonly deps: ReceiveFormDeps) {
    this.forms = new CompletedFormsRepository(deps.schema);
    this.profile = deps.profile ?? COMPLETED_FORM;
  }

  async execute(request: {
    accessToken: string | null;
    contentType: string | undefined;
    body: Buffer | undefined;
  }): Promise<InboundAnswer> {
    return answeringUnavailable(() => this.receive(request));
  }

  /**
   * The access token's check alone (the route runs it before the body is read): null when the
   * token may post this resource type, else the 401/403 answer.
   */
  async tokenRefusal(accessToken: string | null): Promise<InboundAnswer | null> {
    const checked = await this.authorize(accessToken);
    return 'status' in checked ? checked : null;
  }

  private async authorize(accessToken: string | null): Promise<AccessClaims | InboundAnswer> {
    const claims = accessToken ? await this.deps.tokens.verify(accessToken) : null;
    if (!claims) {
      return {
        status: 401,
        body: simpleOutcome('login', 'an OAuth access token of the forms platform is required'),
        headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      };
    }
    const type = this.profile.resourceType;
    if (!allows(claims.scopes, type, 'c')) {
      return {
        status: 403,
        body: simpleOutcome('forbidden', `the access token lacks the scope system/${type}.c (or .write)`),
      };
    }
    return claims;
  }

  private async receive(request: {
    accessToken: string | null;
    contentType: string | undefined;
    body: Buffer | undefined;
  }): Promise<InboundAnswer> {
    const claims = await this.authorize(request.accessToken);
    if ('status' in claims) return claims;
    const type = this.profile.resourceType;
    const refused = mediaTypeRefusal(request.contentType);
    if (refused) return refused;
    const body = request.body ?? Buffer.alloc(0);
    if (body.length > MAX_FORM_BYTES)
      return { status: 413, body: simpleOutcome('too-costly', 'the form is too large') };
    let form: Json;
    try {
      form = JSON.parse(body.toString('utf8')) as Json;
    } catch {
      return invalid(type, 'the body is not JSON', 400);
    }
    if (!form || typeof form !== 'object' || form['resourceType'] !== type)
      return invalid('resourceType', `the body must be a ${type}`, 400);
    const formKey = form['id'];
    if (typeof formKey !== 'string' || !/^[A-Za-z0-9\-.]{1,64}$/.test(formKey))
      return invalid(
        `${type}.id`,
        `${type}.id (the platform's id of it, 1-64 FHIR id characters) is required: it makes retries safe`,
        400,
      );
    const checked = this.profile.check(form);
    if ('status' in checked) return checked;
    const { kind, sitting } = checked;
    const site = claims.site;
    const hash = createHash('sha256').update(body).digest();
    const earlier = await this.forms.findByKey(this.deps.dataSource.manager, site, formKey);
    if (earlier) return this.repeat(earlier, hash);
    const id = randomUUID();
    const ciphertext = await this.deps.cipher.encrypt(site, `form/${id}`, body);
    const inserted = await this.deps.dataSource.transaction(async (tx) => {
      if (
        !(await this.forms.insertIfNew(tx, site, {
          id,
          clientId: claims.clientId,
          formKey,
          kind,
          contentSha256: hash,
          ciphertext,
        }))
      )
        return false;
      await this.deps.outbox.enqueue(
        tx,
        this.deps.registry.create(Events.formCompleted, site, {
          formId: id,
          clientId: claims.clientId,
          kind,
          ...(sitting ? { sitting } : {}),
          receivedAt: new Date().toISOString(),
        }),
      );
      return true;
    });
    if (!inserted) {
      const raced = await this.forms.findByKey(this.deps.dataSource.manager, site, formKey);
      if (!raced) throw new Error('form insert conflicted but no earlier form was found');
      return this.repeat(raced, hash);
    }
    this.deps.afterCommit?.();
    return {
      status: 201,
      body: accepted(id),
      headers: { Location: `/fhir/${type}/${formKey}` },
    };
  }

  private repeat(earlier: { id: string; contentSha256: Buffer }, hash: Buffer): InboundAnswer {
    if (earlier.contentSha256.equals(hash)) return { status: 200, body: accepted(earlier.id) };
    return {
      status: 409,
      body: simpleOutcome(
        'duplicate',
        `a different ${this.profile.resourceType} was already received under this id`,
      ),
    };
  }
}

function accepted(id: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'information',
        code: 'informational',
        diagnostics: `accepted (${id}); it goes to the patient's chart`,
      },
    ],
  };
}
