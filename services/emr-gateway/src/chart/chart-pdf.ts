import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import type { ChartDocument } from './chart-document';

export type Locale = 'en' | 'fr';

const LABELS = {
  en: {
    referral: 'eReferral',
    consult: 'eConsult',
    'web-form': 'Website form submission',
    patient: 'Patient',
    healthNumber: 'Health card number',
    birthDate: 'Date of birth',
    request: 'Request',
    category: 'Service',
    priority: 'Priority',
    reason: 'Reason',
    referrer: 'Referred by',
    contact: 'Contact',
    location: 'Location',
    authoredOn: 'Written on',
    receivedAt: 'Received on',
    reference: 'Reference',
    answers: 'Questionnaire',
    unanswered: '(not answered)',
    attachments: 'Attachments',
    appended: 'appended after this page',
    embedded: 'embedded in this PDF as a file',
    yes: 'yes',
    no: 'no',
  },
  fr: {
    referral: 'Demande de consultation électronique',
    consult: 'eConsultation',
    'web-form': 'Formulaire soumis sur le site Web',
    patient: 'Patient',
    healthNumber: "Numéro d'assurance maladie",
    birthDate: 'Date de naissance',
    request: 'Demande',
    category: 'Service',
    priority: 'Priorité',
    reason: 'Motif',
    referrer: 'Référé par',
    contact: 'Coordonnées',
    location: 'Lieu',
    authoredOn: 'Rédigée le',
    receivedAt: 'Reçue le',
    reference: 'Référence',
    answers: 'Questionnaire',
    unanswered: '(sans réponse)',
    attachments: 'Pièces jointes',
    appended: 'ajoutée après cette page',
    embedded: 'intégrée à ce PDF comme fichier',
    yes: 'oui',
    no: 'non',
  },
} as const;

export function titleOf(doc: ChartDocument, locale: Locale): string {
  const l = LABELS[locale];
  return [l[doc.kind], doc.category ?? doc.request].filter(Boolean).join(' - ').slice(0, 200);
}

/** The standard fonts encode WinAnsi: keep what it can show (French accents included). */
function printable(text: string): string {
  return text
    .normalize('NFC')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201C\u201D\u00AB\u00BB]/g, '"')
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/[^\x20-\x7E\u00A0-\u00FF]/g, '?');
}

class Writer {
  private page!: PDFPage;
  private y = 0;
  private readonly margin = 50;
  constructor(
    private readonly pdf: PDFDocument,
    private readonly font: PDFFont,
    private readonly bold: PDFFont,
  ) {
    this.newPage();
  }

  private newPage(): void {
    this.page = this.pdf.addPage([612, 792]);
    this.y = 792 - this.margin;
  }

  private wrap(text: string, font: PDFFont, size: number, width: number): string[] {
    const lines: string[] = [];
    for (const paragraph of printable(text).split(/\r?\n/)) {
      let line = '';
      for (const word of paragraph.split(/\s+/)) {
        const next = line ? `${line} ${word}` : word;
        if (font.widthOfTextAtSize(next, size) <= width || !line) line = next;
        else {
          lines.push(line);
          line = word;
        }
      }
      lines.push(line);
    }
    return lines;
  }

  text(text: string, options: { size?: number; bold?: boolean; indent?: number } = {}): void {
    const size = options.size ?? 10;
    const font = options.bold ? this.bold : this.font;
    const x = this.margin + (options.indent ?? 0);
    for (const line of this.wrap(text, font, size, 612 - x - this.margin)) {
      if (this.y < this.margin + size) this.newPage();
      this.y -= size + 4;
      this.page.drawText(line, { x, y: this.y, size, font, color: rgb(0, 0, 0) });
    }
  }

  field(label: string, value: string | null | undefined): void {
    if (!value) return;
    this.text(`${label}: ${value}`);
  }

  gap(points = 8): void {
    this.y -= points;
  }
}

/**
 * Renders the chart document as a PDF with pdf-lib: selectable text (standard Helvetica, WinAnsi),
 * labels in the site's language, then every original attachment: PDF pages appended, JPEG/PNG
 * drawn on their own page, and each original also embedded as a file attachment (nothing lost).
 */
export async function renderChartPdf(doc: ChartDocument, locale: Locale): Promise<Buffer> {
  const l = LABELS[locale];
  const pdf = await PDFDocument.create();
  pdf.setTitle(printable(titleOf(doc, locale)));
  pdf.setProducer('Cloud Connect');
  pdf.setCreationDate(new Date(doc.receivedAt));
  pdf.setModificationDate(new Date(doc.receivedAt));
  const w = new Writer(
    pdf,
    await pdf.embedFont(StandardFonts.Helvetica),
    await pdf.embedFont(StandardFonts.HelveticaBold),
  );
  w.text(titleOf(doc, locale), { size: 16, bold: true });
  w.gap();
  w.text(l.patient, { size: 12, bold: true });
  w.field(l.patient, doc.patient.name);
  w.field(
    l.healthNumber,
    [doc.patient.healthNumber, doc.patient.versionCode, doc.patient.province].filter(Boolean).join(' '),
  );
  w.field(l.birthDate, doc.patient.birthDate);
  w.gap();
  w.text(l.request, { size: 12, bold: true });
  w.field(l.request, doc.request);
  w.field(l.category, doc.category);
  w.field(l.priority, doc.priority);
  for (const reason of doc.reasons) w.field(l.reason, reason);
  w.field(l.referrer, doc.referrer);
  w.field(l.contact, doc.referrerContact);
  w.field(l.location, doc.location);
  w.field(l.authoredOn, doc.authoredOn);
  w.field(l.receivedAt, doc.receivedAt);
  w.field(l.reference, doc.reference);
  if (doc.answers.length > 0) {
    w.gap();
    w.text(l.answers, { size: 12, bold: true });
    for (const a of doc.answers) {
      const answer = a.answer === 'yes' ? l.yes : a.answer === 'no' ? l.no : a.answer;
      w.text(a.question, { bold: true });
      w.text(answer || l.unanswered, { indent: 12 });
    }
  }
  const appended: (() => Promise<void>)[] = [];
  if (doc.attachments.length > 0) {
    w.gap();
    w.text(l.attachments, { size: 12, bold: true });
    for (const a of doc.attachments) {
      let how: string = l.embedded;
      if (a.contentType === 'application/pdf') {
        // A PDF that does not parse (or has no page tree) is only embedded as a file.
        const pages = await PDFDocument.load(a.data, { ignoreEncryption: true })
          .then(async (source) =>
            source.getPageCount() > 0 ? pdf.copyPages(source, source.getPageIndices()) : [],
          )
          .catch(() => []);
        if (pages.length > 0) {
          how = l.appended;
          appended.push(() => {
            for (const page of pages) pdf.addPage(page);
            return Promise.resolve();
          });
        }
      } else if (a.contentType === 'image/jpeg' || a.contentType === 'image/png') {
        const image = await (
          a.contentType === 'image/png' ? pdf.embedPng(a.data) : pdf.embedJpg(a.data)
        ).catch(() => null);
        if (image) {
          how = l.appended;
          appended.push(() => {
            const scaled = image.scaleToFit(512, 692);
            pdf.addPage([612, 792]).drawImage(image, { x: 50, y: 742 - scaled.height, ...scaled });
            return Promise.resolve();
          });
        }
      }
      w.text(`${a.title} (${a.contentType}) - ${how}`, { indent: 12 });
      await pdf.attach(a.data, printable(a.title).replace(/[\\/]/g, '_') || 'attachment', {
        mimeType: a.contentType,
        creationDate: new Date(doc.receivedAt),
        modificationDate: new Date(doc.receivedAt),
      });
    }
  }
  for (const append of appended) await append();
  return Buffer.from(await pdf.save({ useObjectStreams: false }));
}
