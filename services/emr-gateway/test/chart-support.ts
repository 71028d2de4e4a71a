// What the into-the-chart suites share: referral-intake as a process beside the gateway harness,
// an integration to post with, bundles for a simulated chart's patient, and reading back PDFs.
import { freePort, ServiceProcess, serviceEnvFor, waitFor } from '@cloud-connect/testing';
import type { Encounter, Patient, QuestionnaireResponse } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { addServiceRequestWithAttachment } from '@cloud-connect/testing';
import type { Json } from '../../referral-intake/test/support';
import { pdfText } from '../src/chart/pdf-text.testing';
import type { Harness, SimData } from './harness';

export class Intake {
  service!: ServiceProcess;
  readonly port: Promise<number> = freePort();

  constructor(private readonly h: Harness) {}

  get schema(): string {
    return `${this.h.schema}_intake`;
  }

  /** Points the gateway at this intake (call before `h.start()`). */
  async wire(): Promise<void> {
    this.h.overrides['REFERRAL_INTAKE_URL'] = `http://127.0.0.1:${await this.port}`;
  }

  async start(): Promise<void> {
    this.service = new ServiceProcess(
      'referral-intake',
      await this.port,
      serviceEnvFor('referral-intake', this.h.env, {
        DATABASE_SCHEMA: this.schema,
        VAULT_SERVICE_URL: this.h.vault.url,
        // Its admin API (integrations, through the CLI) verifies the harness vault's tokens.
        ADMIN_JWKS_URL: `${this.h.vault.url}/.well-known/jwks.json`,
      }),
    ).start();
    await this.service.waitReady(90000);
  }

  /** The CLI as the harness's site admin, against this intake and the gateway. */
  cli(args: string[]): Promise<{ code: number; json: Json; stderr: string }> {
    return this.h.cliAsAdmin(args, {
      REFERRAL_INTAKE_URL: this.service.url,
      EMR_GATEWAY_URL: this.h.service.url,
    });
  }

  /** An integration of the site (a CHR posting eReferrals); its API key. */
  async integration(site: string): Promise<string> {
    const key = `chart-${randomUUID()}`;
    const result = await this.cli(['integration', 'create', '--site', site, '--name', 'CHR', '--key', key]);
    if (result.code !== 0) throw new Error(`integration create failed: ${result.stderr}`);
    return key;
  }

  async post(key: string, bundle: unknown): Promise<number> {
    const response = await fetch(`${this.service.url}/public/ocean/fhir_bundles`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', 'Referral-Integration-API-Key': key },
      body: JSON.stringify(bundle),
      signal: AbortSignal.timeout(30000),
    });
    await response.text();
    return response.status;
  }

  /** An access token of the forms platform's OAuth client for the site (its kiosk: `system/Encounter.c`). */
  async formsToken(site: string, scope = 'system/QuestionnaireResponse.c'): Promise<string> {
    const created = await this.cli([
      'oauth-client',
      'create',
      '--site',
      site,
      '--name',
      `Forms ${randomUUID().slice(0, 8)}`,
      '--scope',
      scope,
    ]);
    if (created.code !== 0) throw new Error(`oauth-client create failed: ${created.stderr}`);
    const json = created.json as { client?: { clientId?: string }; clientId?: string; clientSecret?: string };
    const response = await fetch(`${this.service.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: String(json.client?.clientId ?? json.clientId),
        client_secret: String(json.clientSecret),
      }).toString(),
    });
    const body = (await response.json()) as { access_token?: string };
    if (!body.access_token) throw new Error(`token refused: ${JSON.stringify(body)}`);
    return body.access_token;
  }

  async postForm(
    token: string | null,
    form: unknown,
    resource: 'QuestionnaireResponse' | 'Encounter' = 'QuestionnaireResponse',
  ): Promise<{ status: number; body: Json }> {
    const response = await fetch(`${this.service.url}/fhir/${resource}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/fhir+json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(form),
      signal: AbortSignal.timeout(30000),
    });
    return { status: response.status, body: (await response.json()) as Json };
  }

  async stop(): Promise<void> {
    await this.service?.stop();
    await this.h.db.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`).catch(() => undefined);
  }
}

/** An eReferral (questionnaire + PDF attachment) for this patient; `reason` tells them apart. */
export function referralFor(patient: { healthNumber: string; birthDate?: string }, reason: string): Json {
  const bundle = addServiceRequestWithAttachment() as { entry: { resource: Json }[] };
  for (const { resource } of bundle.entry) {
    if (resource['resourceType'] === 'Patient') {
      resource['identifier'] = [
        {
          type: { coding: [{ system: 'http://hl7.org/fhir/v2/0203', code: 'JHN' }] },
          system: 'https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn',
          value: patient.healthNumber,
        },
      ];
      if (patient.birthDate) resource['birthDate'] = patient.birthDate;
    }
    if (resource['resourceType'] === 'ServiceRequest') resource['reasonCode'] = [{ text: reason }];
  }
  return bundle;
}

/** The text of one document the simulated EMR filed. */
export async function documentText(h: Harness, simId: string, documentId: string): Promise<string> {
  const response = await fetch(`${h.sim.url}/_sim/instances/${simId}/documents/${documentId}`);
  const body = (await response.json()) as { content: string };
  return (await pdfText(Buffer.from(body.content, 'base64'))).text;
}

/** Documents of a patient's chart, in filing order, with their text. */
export async function chartTexts(h: Harness, simId: string, patientId: string): Promise<string[]> {
  const data: SimData = await h.simData(simId);
  const docs = data.documents.filter((d) => d.patientId === patientId);
  return Promise.all(docs.map((d) => documentText(h, simId, d.id)));
}

export async function waitDocuments(
  h: Harness,
  simId: string,
  count: number,
  timeoutMs = 60000,
): Promise<SimData> {
  await waitFor(
    `${count} document(s) in the chart`,
    async () => (await h.simData(simId)).documents.length >= count,
    { timeoutMs, intervalMs: 200 },
  );
  return h.simData(simId);
}

/** The contained Patient of a form or check-in, with its health card number (and date of birth). */
function containedPatient(patient: { healthNumber: string; birthDate?: string }): Patient {
  return {
    resourceType: 'Patient',
    id: 'p',
    identifier: [
      {
        system: 'https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn',
        value: patient.healthNumber,
      },
    ],
    ...(patient.birthDate ? { birthDate: patient.birthDate } : {}),
  };
}

/** A kiosk check-in (FHIR Encounter, status arrived) of this patient at `checkedInAt`. */
export function checkInFor(
  patient: { healthNumber: string; birthDate?: string },
  checkedInAt: string,
): Encounter {
  return {
    resourceType: 'Encounter',
    id: randomUUID(),
    status: 'arrived',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    contained: [containedPatient(patient)],
    subject: { reference: '#p' },
    period: { start: checkedInAt },
  };
}

/** A completed form (QuestionnaireResponse) of this patient, optionally in a sitting or with a file. */
export function formFor(
  patient: { healthNumber: string; birthDate?: string },
  title: string,
  options: { sitting?: { id: string; index: number; total: number }; attachment?: Buffer } = {},
): QuestionnaireResponse {
  return {
    resourceType: 'QuestionnaireResponse',
    id: randomUUID(),
    questionnaire: `https://forms.example.ca/Questionnaire/${encodeURIComponent(title)}|1.0`,
    status: 'completed',
    authored: '2026-12-01T15:04:00-05:00',
    contained: [containedPatient(patient)],
    subject: { reference: '#p' },
    ...(options.sitting
      ? {
          extension: [
            {
              url: 'https://cloudconnect.example.ca/fhir/StructureDefinition/form-sitting',
              extension: [
                { url: 'id', valueString: options.sitting.id },
                { url: 'index', valueInteger: options.sitting.index },
                { url: 'total', valueInteger: options.sitting.total },
              ],
            },
          ],
        }
      : {}),
    item: [
      { linkId: 'q1', text: `${title} score`, answer: [{ valueInteger: 7 }] },
      { linkId: 'q2', text: 'Smoker?', answer: [{ valueBoolean: false }] },
      ...(options.attachment
        ? [
            {
              linkId: 'file',
              text: 'Photo of the rash',
              answer: [
                {
                  valueAttachment: {
                    contentType: 'application/pdf',
                    title: 'rash.pdf',
                    data: options.attachment.toString('base64'),
                  },
                },
              ],
            },
          ]
        : []),
    ],
  };
}
