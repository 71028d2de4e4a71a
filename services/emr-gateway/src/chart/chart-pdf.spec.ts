import { addServiceRequestWithAttachment } from '@cloud-connect/testing';
import type { Bundle } from '@medplum/fhirtypes';
import { isResource } from '../common/fhir-resource';
import { referralDocumentOf } from './chart-document';
import { ChartError } from './chart-error';
import { renderChartPdf } from './chart-pdf';
import { pickChart, PatientMatchError } from '../commands/patient-match';
import { pdfText } from './pdf-text.testing';

function bundleOf(json: unknown): Bundle {
  if (!isResource(json, 'Bundle')) throw new Error('the fixture is not a Bundle');
  return json;
}

describe('referral into the chart as a PDF', () => {
  const bundle = bundleOf(addServiceRequestWithAttachment());
  const doc = referralDocumentOf(bundle, '2026-11-20T19:02:13.000Z');

  it('reads the patient, request, referrer, questionnaire and attachment from the bundle', () => {
    expect(doc.patient).toEqual({
      healthNumber: '9876543217',
      province: 'ON',
      birthDate: '1961-04-23',
      name: 'Marie Claire Tremblay',
      versionCode: undefined,
    });
    expect(doc.kind).toBe('referral');
    expect(doc.category).toBe('Orthopedic Surgery');
    expect(doc.reasons).toEqual(['Right knee osteoarthritis, failed conservative management']);
    expect(doc.referrer).toBe('Dr. Arjun Singh');
    expect(doc.answers).toEqual([
      { question: 'BMI', answer: '31.4' },
      { question: 'Previous surgery on this joint?', answer: 'no' },
      { question: 'Date of last imaging', answer: '' },
    ]);
    expect(doc.attachments.map((a) => [a.title, a.contentType])).toEqual([
      ['knee-xray-report.pdf', 'application/pdf'],
    ]);
  });

  it.each([
    [
      'en',
      [
        'eReferral - Orthopedic Surgery',
        'Health card number: 9876543217 ON',
        'Date of birth: 1961-04-23',
        'Referred by: Dr. Arjun Singh',
        'Previous surgery on this joint?',
        '(not answered)',
        'Attachments',
      ],
    ],
    [
      'fr',
      [
        'Demande de consultation électronique - Orthopedic Surgery',
        "Numéro d'assurance maladie: 9876543217 ON",
        'Date de naissance: 1961-04-23',
        'Référé par: Dr. Arjun Singh',
        'non',
        '(sans réponse)',
        'Pièces jointes',
      ],
    ],
  ] as const)(
    'renders selectable text with %s labels, and appends the original attachment',
    async (locale, expected) => {
      const pdf = await renderChartPdf(doc, locale);
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      const { text, pages } = await pdfText(pdf);
      for (const line of expected) expect(text).toContain(line);
      expect(text).toContain('Right knee osteoarthritis, failed conservative management');
      expect(text).toContain('knee-xray-report.pdf (application/pdf)');
      expect(text).toContain('Marie Claire Tremblay');
      // The original PDF is embedded as a file (its bytes are in the output).
      expect(pdf.includes(Buffer.from('knee-xray-report.pdf'))).toBe(true);
      expect(pages).toBeGreaterThanOrEqual(1);
    },
    // Rendering and parsing a PDF takes seconds when other runs load the machine.
    30000,
  );

  it('embeds an attachment that is not a readable PDF as a file, without appending pages', async () => {
    const broken = {
      ...doc,
      attachments: [
        {
          title: 'scan.pdf',
          contentType: 'application/pdf',
          data: Buffer.from('%PDF-1.4\ntrailer<<>>\n%%EOF\n'),
        },
      ],
    };
    const pdf = await renderChartPdf(broken, 'en');
    const { text, pages } = await pdfText(pdf);
    expect(text).toContain('scan.pdf (application/pdf) - embedded in this PDF as a file');
    expect(pages).toBe(1);
  });

  it('refuses a message without a health card number (it cannot be matched to a chart)', () => {
    const copy = structuredClone(bundle);
    const patient = copy.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource;
    if (patient?.resourceType !== 'Patient') throw new Error('the fixture has no Patient');
    patient.identifier = [];
    expect(() => referralDocumentOf(copy, '2026-11-20T19:02:13.000Z')).toThrow(ChartError);
  });
});

describe('patient matching', () => {
  const patient = { healthNumber: '9000000001', birthDate: '1941-02-11' };

  it('takes the one chart with the same health card number and date of birth', () => {
    expect(
      pickChart(patient, [
        { id: 'a', healthNumber: '9000000001', birthDate: '1941-02-11' },
        { id: 'b', healthNumber: '9000000001', birthDate: '1990-01-01' },
      ]).id,
    ).toBe('a');
  });

  it('matches on the number alone where the EMR does not return a date of birth', () => {
    expect(pickChart(patient, [{ id: 'a', healthNumber: '9000-000-001' }]).id).toBe('a');
  });

  it('holds when no chart, or several, fit', () => {
    expect(() => pickChart(patient, [])).toThrow(PatientMatchError);
    expect(() =>
      pickChart(patient, [{ id: 'b', healthNumber: '9000000001', birthDate: '1990-01-01' }]),
    ).toThrow(/no chart/);
    try {
      pickChart(patient, [
        { id: 'a', healthNumber: '9000000001', birthDate: '1941-02-11' },
        { id: 'c', healthNumber: '9000000001' },
      ]);
      throw new Error('expected a hold');
    } catch (error) {
      expect(error).toBeInstanceOf(PatientMatchError);
      expect((error as PatientMatchError).code).toBe('ambiguous');
      expect((error as PatientMatchError).candidates).toEqual(['a', 'c']);
    }
  });
});
