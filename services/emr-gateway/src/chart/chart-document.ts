/**
 * What goes into the chart for one inbound message, read from its FHIR R4 bundle (plaintext only
 * in memory). Pure: no I/O, so the rules are unit-tested.
 *
 * The message arrives typed (`Bundle`, `QuestionnaireResponse`, `Encounter`): intake stored a
 * bundle only after its R4 structure check and a form only after its own rules. Forms are not
 * structure-checked, so repeating fields and nested objects are still read through `arr` / `obj`,
 * which skip a sender's stray scalar instead of failing on it.
 */
import type {
  Bundle,
  BundleEntry,
  CodeableConcept,
  Encounter,
  Patient,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  QuestionnaireResponseItemAnswer,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import { ChartError } from './chart-error';

export const HCN_SYSTEMS: Record<string, string> = {
  'https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn': 'ON',
  'https://fhir.infoway-inforoute.ca/NamingSystem/ca-qc-patient-hcn': 'QC',
  'https://fhir.infoway-inforoute.ca/NamingSystem/ca-bc-patient-healthcare-id': 'BC',
  'https://fhir.infoway-inforoute.ca/NamingSystem/ca-ab-patient-healthcare-id': 'AB',
  'https://fhir.infoway-inforoute.ca/NamingSystem/ca-mb-patient-healthcare-id': 'MB',
  'https://fhir.infoway-inforoute.ca/NamingSystem/ca-sk-patient-healthcare-id': 'SK',
  'https://fhir.infoway-inforoute.ca/NamingSystem/ca-ns-patient-healthcare-id': 'NS',
};
const VERSION_CODE_EXT =
  'https://ehealthontario.ca/fhir/StructureDefinition/ca-on-ext-health-card-version-code';

/** Who the document is about, as far as matching needs it. */
export interface ChartPatient {
  healthNumber: string;
  versionCode?: string | undefined;
  province?: string | undefined;
  birthDate?: string | undefined;
  name?: string | undefined;
}

export interface ChartAttachment {
  title: string;
  contentType: string;
  data: Buffer;
}

export interface ChartDocument {
  /** eReferral, eConsult or website form. */
  kind: 'referral' | 'consult' | 'web-form';
  patient: ChartPatient;
  request: string | null;
  category: string | null;
  priority: string | null;
  reasons: string[];
  referrer: string | null;
  referrerContact: string | null;
  location: string | null;
  authoredOn: string | null;
  receivedAt: string;
  answers: { question: string; answer: string }[];
  attachments: ChartAttachment[];
  reference: string | null;
}

/** The object elements of a repeating field (a stray scalar or null is skipped). */
function arr<T>(v: readonly T[] | undefined): NonNullable<T>[] {
  return Array.isArray(v) ? v.filter((x): x is NonNullable<T> => Boolean(x) && typeof x === 'object') : [];
}
function str(v: unknown): string | null {
  return typeof v === 'string' && v.trim() ? v.trim() : null;
}
/** A complex field, or no fields at all when it is absent or not an object. */
function obj<T extends object>(v: T | undefined): Partial<T> {
  return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
}

/** A person's name: the first HumanName's text or its parts (a plain `name` string as it is). */
export function humanName(resource: Resource): string | null {
  const names = 'name' in resource ? resource.name : undefined;
  if (!Array.isArray(names)) return str(names);
  const name = arr(names)[0];
  if (!name) return null;
  const text = str(name.text);
  if (text) return text;
  const given = Array.isArray(name.given) ? name.given.map(String) : [];
  const prefix = Array.isArray(name.prefix) ? name.prefix.map(String) : [];
  return [...prefix, ...given, str(name.family) ?? ''].join(' ').trim() || null;
}

function codingText(concept: CodeableConcept | undefined): string | null {
  const c = obj(concept);
  const coding = obj(arr(c.coding)[0]);
  return str(c.text) ?? str(coding.display) ?? str(coding.code);
}

/** The patient's health card: the first identifier with a known provincial system (else a JHN-typed one). */
export function chartPatientOf(patient: Patient): ChartPatient {
  const identifiers = arr(patient.identifier);
  const hcn =
    identifiers.find((i) => str(i.value) && HCN_SYSTEMS[String(i.system)]) ??
    identifiers.find((i) => str(i.value) && arr(obj(i.type).coding).some((c) => c.code === 'JHN'));
  const healthNumber = hcn ? str(hcn.value) : null;
  if (!hcn || !healthNumber) throw new ChartError('unchartable', 'the patient has no health card number');
  const version = arr(hcn.extension).find((e) => e.url === VERSION_CODE_EXT);
  return {
    healthNumber: healthNumber.replace(/[\s-]/g, '').toUpperCase(),
    versionCode: str(version?.valueString)?.toUpperCase() ?? undefined,
    province: HCN_SYSTEMS[String(hcn.system)],
    birthDate: str(patient.birthDate) ?? undefined,
    name: humanName(patient) ?? undefined,
  };
}

/** An answer as text: its first `value[x]`, whichever type it is. */
function answerText(answer: QuestionnaireResponseItemAnswer): string {
  const values: [string, unknown][] = Object.entries(answer);
  for (const [k, v] of values) {
    if (!k.startsWith('value')) continue;
    if (k === 'valueCoding')
      return codingText({ coding: answer.valueCoding ? [answer.valueCoding] : [] }) ?? '';
    if (k === 'valueBoolean') return answer.valueBoolean ? 'yes' : 'no';
    if (k === 'valueQuantity') {
      const q = obj(answer.valueQuantity);
      return `${typeof q.value === 'number' ? q.value : ''} ${str(q.unit) ?? ''}`.trim();
    }
    if (k === 'valueAttachment') return str(obj(answer.valueAttachment).title) ?? 'attachment';
    if (k === 'valueReference') {
      const ref = obj(answer.valueReference);
      return str(ref.display) ?? str(ref.reference) ?? '';
    }
    return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
  }
  return '';
}

/** Question/answer pairs of a QuestionnaireResponse, nested groups flattened in order. */
export function answersOf(response: QuestionnaireResponse): { question: string; answer: string }[] {
  const out: { question: string; answer: string }[] = [];
  const walk = (items: QuestionnaireResponseItem[], prefix: string): void => {
    for (const item of items) {
      const question = `${prefix}${str(item.text) ?? str(item.linkId) ?? ''}`;
      const answers = arr(item.answer);
      if (answers.length > 0) {
        out.push({ question, answer: answers.map(answerText).join(', ') });
        for (const a of answers) walk(arr(a.item), `${question} / `);
      } else if (arr(item.item).length === 0) {
        out.push({ question, answer: '' });
      }
      walk(arr(item.item), item.answer ? `${question} / ` : prefix);
    }
  };
  walk(arr(response.item), '');
  return out;
}

function attachmentsOf(resources: Resource[]): ChartAttachment[] {
  const out: ChartAttachment[] = [];
  for (const r of resources) {
    if (r.resourceType !== 'DocumentReference') continue;
    for (const c of arr(r.content)) {
      const a = obj(c.attachment);
      const data = str(a.data);
      if (!data) continue;
      out.push({
        title: str(a.title) ?? codingText(r.type) ?? 'attachment',
        contentType: str(a.contentType) ?? 'application/octet-stream',
        data: Buffer.from(data, 'base64'),
      });
    }
  }
  return out;
}

function resolver(
  resources: Resource[],
  entries: BundleEntry[],
): (ref: Reference | undefined) => Resource | undefined {
  return (ref) => {
    const r = str(obj(ref).reference);
    if (!r) return undefined;
    const byUrl = entries.find((e) => e.fullUrl === r);
    if (byUrl) return byUrl.resource;
    const [type, id] = r.split('/');
    return resources.find((x) => x.resourceType === type && x.id === id);
  };
}

/** Reads an eReferral / eConsult message bundle into the chart document. */
export function referralDocumentOf(bundle: Bundle, receivedAt: string): ChartDocument {
  const entries = arr(bundle.entry);
  const resources = entries
    .map((e) => e.resource)
    .filter((r): r is Resource => Boolean(r) && typeof r === 'object');
  const resolve = resolver(resources, entries);
  const request = resources.find((r) => r.resourceType === 'ServiceRequest');
  if (!request) throw new ChartError('unchartable', 'the message has no ServiceRequest');
  // Intake's eReferral rules require the subject to be a Patient in the bundle.
  const subject = resolve(request.subject);
  const patient =
    subject?.resourceType === 'Patient' ? subject : resources.find((r) => r.resourceType === 'Patient');
  if (!patient) throw new ChartError('unchartable', 'the message has no Patient');
  let requester = resolve(request.requester);
  let contact: string | null = null;
  if (requester?.resourceType === 'PractitionerRole') {
    contact = arr(requester.telecom)
      .map((t) => `${String(t.system)} ${String(t.value)}`)
      .join(', ');
    requester = resolve(requester.practitioner) ?? requester;
  }
  const location = resources.find((r) => r.resourceType === 'Location');
  const consult = arr(request.category).some((c) =>
    arr(c.coding).some((x) => String(x.code).includes('consult')),
  );
  const questionnaire = resources.filter((r) => r.resourceType === 'QuestionnaireResponse');
  return {
    kind: consult ? 'consult' : 'referral',
    patient: chartPatientOf(patient),
    request: codingText(request.code),
    category: codingText(arr(request.category)[0]),
    priority: str(request.priority),
    reasons: [
      ...arr(request.reasonCode).map(codingText),
      ...arr(request.note).map((n) => str(n.text)),
    ].filter((x): x is string => x !== null),
    referrer: requester ? humanName(requester) : null,
    referrerContact: contact || null,
    location: location ? str(location.name) : null,
    authoredOn: str(request.authoredOn),
    receivedAt,
    answers: questionnaire.flatMap(answersOf),
    attachments: attachmentsOf(resources),
    reference: str(obj(arr(request.identifier)[0]).value),
  };
}

const FORM_TITLE_EXT = 'https://cloudconnect.example.ca/fhir/StructureDefinition/form-title';

/** The patient of a completed form: the contained Patient its `subject` references. */
function formPatient(form: QuestionnaireResponse | Encounter): ChartPatient {
  const ref = str(obj(form.subject).reference);
  const patient = arr(form.contained).find(
    (c): c is Patient => c.resourceType === 'Patient' && ref !== null && `#${String(c.id)}` === ref,
  );
  if (!patient) throw new ChartError('unchartable', 'the form has no contained Patient');
  return chartPatientOf(patient);
}

/** The form's title: the form-title extension, else the Questionnaire's name from its canonical URL. */
export function formTitleOf(form: QuestionnaireResponse): string {
  const ext = str(arr(form.extension).find((e) => e.url === FORM_TITLE_EXT)?.valueString);
  if (ext) return ext.slice(0, 200);
  const canonical = str(form.questionnaire) ?? 'form';
  return decodeURIComponent(canonical.split('|')[0]?.split('/').pop() ?? 'form').slice(0, 200) || 'form';
}

function formAttachments(items: QuestionnaireResponseItem[]): ChartAttachment[] {
  const out: ChartAttachment[] = [];
  for (const item of items) {
    for (const answer of arr(item.answer)) {
      const a = obj(answer.valueAttachment);
      const data = str(a.data);
      if (data)
        out.push({
          title: str(a.title) ?? str(item.text) ?? 'attachment',
          contentType: str(a.contentType) ?? 'application/octet-stream',
          data: Buffer.from(data, 'base64'),
        });
      out.push(...formAttachments(arr(answer.item)));
    }
    out.push(...formAttachments(arr(item.item)));
  }
  return out;
}

/** A website-form submission (a completed form with attachments) as a chart document. */
export function webFormDocumentOf(form: QuestionnaireResponse, receivedAt: string): ChartDocument {
  return {
    kind: 'web-form',
    patient: formPatient(form),
    request: formTitleOf(form),
    category: formTitleOf(form),
    priority: null,
    reasons: [],
    referrer: null,
    referrerContact: null,
    location: null,
    authoredOn: str(form.authored),
    receivedAt,
    answers: answersOf(form),
    attachments: formAttachments(arr(form.item)),
    reference: str(form.id),
  };
}

/** A completed questionnaire as a progress note: title, when, and every question with its answer. */
export function progressNoteOf(
  form: QuestionnaireResponse,
  locale: 'en' | 'fr',
): { patient: ChartPatient; title: string; text: string } {
  const title = formTitleOf(form);
  const authored = str(form.authored);
  const none = locale === 'fr' ? '(sans réponse)' : '(not answered)';
  const yesNo = (a: string): string => (locale === 'fr' ? (a === 'yes' ? 'oui' : a === 'no' ? 'non' : a) : a);
  const lines = answersOf(form).map((a) => `${a.question}: ${a.answer ? yesNo(a.answer) : none}`);
  const when = authored ? ` (${locale === 'fr' ? 'rempli le' : 'completed'} ${authored})` : '';
  return { patient: formPatient(form), title: `${title}${when}`, text: lines.join('\n') || none };
}

/** A kiosk check-in (an `Encounter`, status arrived): who checked in, and when. */
export function checkInOf(encounter: Encounter): { patient: ChartPatient; checkedInAt: string } {
  const start = str(encounter.period?.start);
  if (!start || Number.isNaN(Date.parse(start)))
    throw new ChartError('unchartable', 'the check-in has no time');
  return { patient: formPatient(encounter), checkedInAt: start };
}
