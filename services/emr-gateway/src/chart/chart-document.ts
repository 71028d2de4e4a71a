/**
 * What goes into the chart for one inbound message, read from its FHIR R4 bundle (plaintext only
 * in memory). Pure: no I/O, so the rules are unit-tested.
 */
import { ChartError } from './chart-error';

type Json = Record<string, unknown>;

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

function arr(v: unknown): Json[] {
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as Json[]) : [];
}
function str(v: unknown): string | null {
  return typeof v === 'string' && v.trim() ? v.trim() : null;
}
function obj(v: unknown): Json {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}

export function humanName(resource: Json): string | null {
  const name = arr(resource['name'])[0];
  if (!name) return str(resource['name']);
  const text = str(name['text']);
  if (text) return text;
  const given = Array.isArray(name['given']) ? (name['given'] as unknown[]).map(String) : [];
  const prefix = Array.isArray(name['prefix']) ? (name['prefix'] as unknown[]).map(String) : [];
  return [...prefix, ...given, str(name['family']) ?? ''].join(' ').trim() || null;
}

function codingText(concept: unknown): string | null {
  const c = obj(concept);
  return str(c['text']) ?? str(obj(arr(c['coding'])[0])['display']) ?? str(obj(arr(c['coding'])[0])['code']);
}

/** The patient's health card: the first identifier with a known provincial system (else a JHN-typed one). */
export function chartPatientOf(patient: Json): ChartPatient {
  const identifiers = arr(patient['identifier']);
  const hcn =
    identifiers.find((i) => str(i['value']) && HCN_SYSTEMS[String(i['system'])]) ??
    identifiers.find(
      (i) => str(i['value']) && arr(obj(i['type'])['coding']).some((c) => c['code'] === 'JHN'),
    );
  const healthNumber = hcn ? str(hcn['value']) : null;
  if (!hcn || !healthNumber) throw new ChartError('unchartable', 'the patient has no health card number');
  const version = arr(hcn['extension']).find((e) => e['url'] === VERSION_CODE_EXT);
  return {
    healthNumber: healthNumber.replace(/[\s-]/g, '').toUpperCase(),
    versionCode: str(version?.['valueString'])?.toUpperCase() ?? undefined,
    province: HCN_SYSTEMS[String(hcn['system'])],
    birthDate: str(patient['birthDate']) ?? undefined,
    name: humanName(patient) ?? undefined,
  };
}

function answerText(answer: Json): string {
  for (const [k, v] of Object.entries(answer)) {
    if (!k.startsWith('value')) continue;
    if (k === 'valueCoding') return codingText({ coding: [v] }) ?? '';
    if (k === 'valueBoolean') return v ? 'yes' : 'no';
    if (k === 'valueQuantity') {
      const q = obj(v);
      return `${typeof q['value'] === 'number' ? q['value'] : ''} ${str(q['unit']) ?? ''}`.trim();
    }
    if (k === 'valueAttachment') return str(obj(v)['title']) ?? 'attachment';
    if (k === 'valueReference') return str(obj(v)['display']) ?? str(obj(v)['reference']) ?? '';
    return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
  }
  return '';
}

/** Question/answer pairs of a QuestionnaireResponse, nested groups flattened in order. */
export function answersOf(response: Json): { question: string; answer: string }[] {
  const out: { question: string; answer: string }[] = [];
  const walk = (items: Json[], prefix: string): void => {
    for (const item of items) {
      const question = `${prefix}${str(item['text']) ?? str(item['linkId']) ?? ''}`;
      const answers = arr(item['answer']);
      if (answers.length > 0) {
        out.push({ question, answer: answers.map(answerText).join(', ') });
        for (const a of answers) walk(arr(a['item']), `${question} / `);
      } else if (arr(item['item']).length === 0) {
        out.push({ question, answer: '' });
      }
      walk(arr(item['item']), item['answer'] ? `${question} / ` : prefix);
    }
  };
  walk(arr(response['item']), '');
  return out;
}

function attachmentsOf(resources: Json[]): ChartAttachment[] {
  const out: ChartAttachment[] = [];
  for (const r of resources.filter((x) => x['resourceType'] === 'DocumentReference')) {
    for (const c of arr(r['content'])) {
      const a = obj(c['attachment']);
      const data = str(a['data']);
      if (!data) continue;
      out.push({
        title: str(a['title']) ?? codingText(r['type']) ?? 'attachment',
        contentType: str(a['contentType']) ?? 'application/octet-stream',
        data: Buffer.from(data, 'base64'),
      });
    }
  }
  return out;
}

function resolver(resources: Json[], entries: Json[]): (ref: unknown) => Json | undefined {
  return (ref) => {
    const r = str(obj(ref)['reference']);
    if (!r) return undefined;
    const byUrl = entries.find((e) => e['fullUrl'] === r);
    if (byUrl) return obj(byUrl['resource']);
    const [type, id] = r.split('/');
    return resources.find((x) => x['resourceType'] === type && x['id'] === id);
  };
}

/** Reads an eReferral / eConsult message bundle into the chart document. */
export function referralDocumentOf(bundle: Json, receivedAt: string): ChartDocument {
  const entries = arr(bundle['entry']);
  const resources = entries.map((e) => obj(e['resource']));
  const resolve = resolver(resources, entries);
  const request = resources.find((r) => r['resourceType'] === 'ServiceRequest');
  if (!request) throw new ChartError('unchartable', 'the message has no ServiceRequest');
  const patient = resolve(request['subject']) ?? resources.find((r) => r['resourceType'] === 'Patient');
  if (!patient) throw new ChartError('unchartable', 'the message has no Patient');
  let requester = resolve(request['requester']);
  let contact: string | null = null;
  if (requester?.['resourceType'] === 'PractitionerRole') {
    contact = arr(requester['telecom'])
      .map((t) => `${String(t['system'])} ${String(t['value'])}`)
      .join(', ');
    requester = resolve(requester['practitioner']) ?? requester;
  }
  const location = resources.find((r) => r['resourceType'] === 'Location');
  const consult = arr(request['category']).some((c) =>
    arr(c['coding']).some((x) => String(x['code']).includes('consult')),
  );
  const questionnaire = resources.filter((r) => r['resourceType'] === 'QuestionnaireResponse');
  return {
    kind: consult ? 'consult' : 'referral',
    patient: chartPatientOf(patient),
    request: codingText(request['code']),
    category: codingText(arr(request['category'])[0]),
    priority: str(request['priority']),
    reasons: [
      ...arr(request['reasonCode']).map(codingText),
      ...arr(request['note']).map((n) => str(n['text'])),
    ].filter((x): x is string => x !== null),
    referrer: requester ? humanName(requester) : null,
    referrerContact: contact || null,
    location: location ? str(location['name']) : null,
    authoredOn: str(request['authoredOn']),
    receivedAt,
    answers: questionnaire.flatMap(answersOf),
    attachments: attachmentsOf(resources),
    reference: str(obj(arr(request['identifier'])[0])['value']),
  };
}

const FORM_TITLE_EXT = 'https://cloudconnect.example.ca/fhir/StructureDefinition/form-title';

/** The patient of a completed form: the contained Patient its `subject` references. */
function formPatient(form: Json): ChartPatient {
  const ref = str(obj(form['subject'])['reference']);
  const patient = arr(form['contained']).find(
    (c) => c['resourceType'] === 'Patient' && ref !== null && `#${String(c['id'])}` === ref,
  );
  if (!patient) throw new ChartError('unchartable', 'the form has no contained Patient');
  return chartPatientOf(patient);
}

/** The form's title: the form-title extension, else the Questionnaire's name from its canonical URL. */
export function formTitleOf(form: Json): string {
  const ext = str(arr(form['extension']).find((e) => e['url'] === FORM_TITLE_EXT)?.['valueString']);
  if (ext) return ext.slice(0, 200);
  const canonical = str(form['questionnaire']) ?? 'form';
  return decodeURIComponent(canonical.split('|')[0]?.split('/').pop() ?? 'form').slice(0, 200) || 'form';
}

function formAttachments(items: Json[]): ChartAttachment[] {
  const out: ChartAttachment[] = [];
  for (const item of items) {
    for (const answer of arr(item['answer'])) {
      const a = obj(answer['valueAttachment']);
      const data = str(a['data']);
      if (data)
        out.push({
          title: str(a['title']) ?? str(item['text']) ?? 'attachment',
          contentType: str(a['contentType']) ?? 'application/octet-stream',
          data: Buffer.from(data, 'base64'),
        });
      out.push(...formAttachments(arr(answer['item'])));
    }
    out.push(...formAttachments(arr(item['item'])));
  }
  return out;
}

/** A website-form submission (a completed form with attachments) as a chart document. */
export function webFormDocumentOf(form: Json, receivedAt: string): ChartDocument {
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
    authoredOn: str(form['authored']),
    receivedAt,
    answers: answersOf(form),
    attachments: formAttachments(arr(form['item'])),
    reference: str(form['id']),
  };
}

/** A completed questionnaire as a progress note: title, when, and every question with its answer. */
export function progressNoteOf(
  form: Json,
  locale: 'en' | 'fr',
): { patient: ChartPatient; title: string; text: string } {
  const title = formTitleOf(form);
  const authored = str(form['authored']);
  const none = locale === 'fr' ? '(sans réponse)' : '(not answered)';
  const yesNo = (a: string): string => (locale === 'fr' ? (a === 'yes' ? 'oui' : a === 'no' ? 'non' : a) : a);
  const lines = answersOf(form).map((a) => `${a.question}: ${a.answer ? yesNo(a.answer) : none}`);
  const when = authored ? ` (${locale === 'fr' ? 'rempli le' : 'completed'} ${authored})` : '';
  return { patient: formPatient(form), title: `${title}${when}`, text: lines.join('\n') || none };
}

/** A kiosk check-in (an `Encounter`, status arrived): who checked in, and when. */
export function checkInOf(encounter: Json): { patient: ChartPatient; checkedInAt: string } {
  const start = str((encounter['period'] as Json | undefined)?.['start']);
  if (!start || Number.isNaN(Date.parse(start)))
    throw new ChartError('unchartable', 'the check-in has no time');
  return { patient: formPatient(encounter), checkedInAt: start };
}
