import { Events } from '@cloud-connect/contracts';
import type { Envelope } from '@cloud-connect/kafka';
import type { MessagingService, SiteReplica } from '@cloud-connect/service-kit';
import { createHash, createHmac } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { EmrType } from '../adapters/emr-adapter';
import type { CommandResolver } from '../commands/command-queue';
import { CommandsRepository, UNRESOLVED, type QueuedCommand } from '../commands/commands.repository';
import type { PhiCipher } from '../commands/phi-cipher';
import { ConnectionsRepository } from '../connections/connections.repository';
import type { EmrSettings } from '../settings/emr-settings';
import type { EmrSettingsService } from '../settings/emr-settings.service';
import {
  checkInOf,
  progressNoteOf,
  referralDocumentOf,
  webFormDocumentOf,
  type ChartDocument,
  type ChartPatient,
} from './chart-document';
import { ChartError } from './chart-error';
import { renderChartPdf, titleOf } from './chart-pdf';
import type { ReferralSource } from './referral-source';

/** Event codes whose message is a referral or consult to put into the chart. */
export const CHARTABLE_EVENTS = new Set(['add-service-request']);
/** Internal command kinds of a message not yet read (its patient unknown until it is). */
export const CHART_REFERRAL = 'chart-referral';
export const CHART_FORM = 'chart-form';
export const UNREAD_KINDS: ReadonlySet<string> = new Set([CHART_REFERRAL, CHART_FORM]);
/** EMR types with a tickler / task list (the CHR has none). */
const HAS_TICKLERS: ReadonlySet<EmrType> = new Set([
  'ps-suite',
  'med-access',
  'accuro',
  'oscar-pro',
  'fhir-r4',
]);

/** A stable UUID for a derived command (a redelivered event or a retried read makes the same ids). */
export function derivedCommandId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** What matching needs of the patient (sealed with the command). */
function identityOf(p: ChartPatient): Record<string, string> {
  return {
    healthNumber: p.healthNumber,
    ...(p.versionCode ? { versionCode: p.versionCode } : {}),
    ...(p.province ? { province: p.province } : {}),
    ...(p.birthDate ? { birthDate: p.birthDate.slice(0, 10) } : {}),
  };
}

export interface ChartIntakeOptions {
  schema: string;
  /** Secret of the keyed hash that makes the opaque per-patient ordering key. */
  patientKeySecret: string;
}

/** What chart intake works with: `source` reads inbound messages from intake. */
export interface ChartIntakeDeps {
  messaging: MessagingService;
  settings: EmrSettingsService;
  sites: SiteReplica;
  source: ReferralSource;
  cipher: PhiCipher;
  options: ChartIntakeOptions;
}

/**
 * From platform events to EMR commands, owned by the gateway: `referral.received` for a site
 * whose EMR is connected and whose "import attachments as PDF" setting is on becomes a queued
 * command (durable in the consumer's transaction). The dispatcher then reads the message from
 * intake, renders the PDF, matches the patient and writes it (plus a tickler where the EMR has
 * them) through the same no-loss queue (docs/emr.md, "Into the chart").
 */
export class ChartIntake implements CommandResolver {
  readonly kinds = UNREAD_KINDS;
  private readonly commands: CommandsRepository;
  private readonly connections: ConnectionsRepository;

  constructor(private readonly deps: ChartIntakeDeps) {
    this.commands = new CommandsRepository(deps.options.schema);
    this.connections = new ConnectionsRepository(deps.options.schema);
  }

  /** A `referral.received` or `form.completed`, in the consumer's transaction: true if it queued a command. */
  async handle(envelope: Envelope, tx: EntityManager): Promise<boolean> {
    return envelope.type === Events.formCompleted.type
      ? this.onFormCompleted(envelope, tx)
      : this.onReferralReceived(envelope, tx);
  }

  private async onReferralReceived(envelope: Envelope, tx: EntityManager): Promise<boolean> {
    if (envelope.type !== Events.referralReceived.type) return false;
    const event = Events.referralReceived.schema.parse(envelope.payload);
    if (!CHARTABLE_EVENTS.has(event.eventCode)) return false;
    const site = envelope.siteId;
    const connection = await this.connections.find(tx, site);
    if (!connection || connection.status === 'disconnected') return false;
    const { settings } = await this.deps.settings.get(site);
    if (!settings.importAttachmentsAsPdf) return false;
    await this.commands.enqueue(tx, site, {
      commandId: derivedCommandId(site, 'referral', event.referralId, 'attach-pdf'),
      patientKey: `${UNRESOLVED}referral/${event.referralId}`,
      occurredAt: event.receivedAt,
      kind: CHART_REFERRAL,
      sealed: null,
      sitting: null,
      sourceRef: `referral/${event.referralId}`,
    });
    return true;
  }

  /**
   * A completed form: a questionnaire becomes a progress note at once (in its sitting, when it
   * came with one); a website-form submission with attachments becomes a PDF when "import
   * attachments as PDF" is on.
   */
  private async onFormCompleted(envelope: Envelope, tx: EntityManager): Promise<boolean> {
    const event = Events.formCompleted.schema.parse(envelope.payload);
    const site = envelope.siteId;
    const connection = await this.connections.find(tx, site);
    if (!connection || connection.status === 'disconnected') return false;
    if (event.kind === 'web-form' && !(await this.deps.settings.get(site)).settings.importAttachmentsAsPdf)
      return false;
    await this.commands.enqueue(tx, site, {
      commandId: derivedCommandId(site, 'form', event.formId),
      patientKey: `${UNRESOLVED}form/${event.formId}`,
      occurredAt: event.receivedAt,
      kind: CHART_FORM,
      sealed: null,
      sitting: event.kind === 'questionnaire' ? (event.sitting ?? null) : null,
      sourceRef: `form/${event.formId}`,
    });
    return true;
  }

  /** The opaque ordering key of a patient within a site (a keyed hash: no PHI, not reversible). */
  patientKey(site: string, patient: ChartPatient): string {
    return `hcn:${createHmac('sha256', this.deps.options.patientKeySecret)
      .update(`${site}|${patient.province ?? ''}|${patient.healthNumber}`)
      .digest('hex')
      .slice(0, 40)}`;
  }

  /**
   * Reads the message of an unresolved command and turns it into its commands: the PDF (in place
   * of the unresolved row, same id and place in line) and a tickler where the EMR has them.
   * Returns false when the site's setting is now off (the command is then skipped).
   */
  async resolve(head: QueuedCommand, settings: EmrSettings, emrType: EmrType): Promise<boolean> {
    const site = head.siteNumber;
    const sourceRef = head.sourceRef ?? '';
    const content = await this.deps.source.read(site, sourceRef);
    const locale = (await this.deps.sites.find(site))?.locale ?? 'en';
    const receivedAt = head.occurredAt.toISOString();
    if (head.kind === CHART_FORM && content.resourceType === 'Encounter') {
      // A kiosk check-in: the patient's appointments within the window are marked arrived.
      if (settings.markArrivedWithinHours <= 0) return false;
      const checkIn = checkInOf(content);
      return this.resolveAs(head, 'mark-arrived', checkIn.patient, {
        patient: identityOf(checkIn.patient),
        checkedInAt: checkIn.checkedInAt,
      });
    }
    if (head.kind === CHART_FORM) {
      if (content.resourceType !== 'QuestionnaireResponse')
        throw new ChartError(
          'unchartable',
          `a form is a QuestionnaireResponse, not a ${content.resourceType}`,
        );
      const web = webFormDocumentOf(content, receivedAt);
      if (web.attachments.length === 0) {
        const note = progressNoteOf(content, locale);
        return this.resolveAs(head, 'save-progress-note', note.patient, {
          ...note,
          patient: identityOf(note.patient),
        });
      }
      if (!settings.importAttachmentsAsPdf) return false;
      return this.resolveDocument(head, web, locale, null);
    }
    if (content.resourceType !== 'Bundle')
      throw new ChartError('unchartable', `a referral is a message Bundle, not a ${content.resourceType}`);
    if (!settings.importAttachmentsAsPdf) return false;
    return this.resolveDocument(head, referralDocumentOf(content, receivedAt), locale, emrType);
  }

  /** The unresolved row becomes one command of `kind` with this (sealed) content, same id and place. */
  private async resolveAs(
    head: QueuedCommand,
    kind: 'save-progress-note' | 'mark-arrived',
    patient: ChartPatient,
    content: Record<string, unknown>,
  ): Promise<boolean> {
    const site = head.siteNumber;
    const sealed = await this.deps.cipher.seal(site, head.commandId, Buffer.from(JSON.stringify(content)));
    await this.deps.messaging.transaction((tx) =>
      this.commands.resolve(tx, site, head.commandId, this.patientKey(site, patient), kind, sealed),
    );
    return true;
  }

  /** The PDF in place of the unresolved row; with `emrType`, a tickler where that EMR has them. */
  private async resolveDocument(
    head: QueuedCommand,
    doc: ChartDocument,
    locale: 'en' | 'fr',
    emrType: EmrType | null,
  ): Promise<boolean> {
    const site = head.siteNumber;
    const referralId = (head.sourceRef ?? '').replace(/^[a-z]+\//, '');
    const pdf = await renderChartPdf(doc, locale);
    const patient = identityOf(doc.patient);
    const title = titleOf(doc, locale);
    const sealedPdf = await this.deps.cipher.seal(
      site,
      head.commandId,
      Buffer.from(JSON.stringify({ patient, title, pdfBase64: pdf.toString('base64') })),
    );
    const tickler =
      emrType && HAS_TICKLERS.has(emrType)
        ? {
            commandId: derivedCommandId(site, 'referral', referralId, 'create-tickler'),
            content: {
              patient,
              message:
                locale === 'fr'
                  ? `Nouvelle ${doc.kind === 'consult' ? 'eConsultation' : 'demande de consultation'} au dossier : ${title}`
                  : `New ${doc.kind === 'consult' ? 'eConsult' : 'eReferral'} in the chart: ${title}`,
              dueDate: new Date().toISOString().slice(0, 10),
            },
          }
        : null;
    const sealedTickler = tickler
      ? await this.deps.cipher.seal(site, tickler.commandId, Buffer.from(JSON.stringify(tickler.content)))
      : null;
    const patientKey = this.patientKey(site, doc.patient);
    await this.deps.messaging.transaction(async (tx) => {
      await this.commands.resolve(tx, site, head.commandId, patientKey, 'attach-pdf', sealedPdf);
      if (tickler && sealedTickler) {
        await this.commands.enqueue(tx, site, {
          commandId: tickler.commandId,
          patientKey,
          occurredAt: head.occurredAt.toISOString(),
          kind: 'create-tickler',
          sealed: sealedTickler,
          sitting: null,
          sourceRef: head.sourceRef,
        });
      }
    });
    return true;
  }
}
