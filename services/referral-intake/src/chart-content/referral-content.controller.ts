import { AllowServices, AuthGuard } from '@cloud-connect/auth';
import { assertIdentifier } from '@cloud-connect/db';
import { SERVICE_CONFIG } from '@cloud-connect/service-kit';
import { Controller, Get, HttpException, Inject, Module, Param, UseGuards, type Type } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { IntakeConfig } from '../config';
import { CompletedFormsRepository } from '../forms/completed-forms.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SITE = /^[1-9][0-9]{0,9}$/;

/** The only SQL of this module: one stored message's sealed bundle, by site and id. */
export class SealedBundlesRepository {
  private readonly table: string;

  constructor(schema: string) {
    this.table = `"${assertIdentifier(schema)}".referrals`;
  }

  async find(db: Pick<DataSource, 'query'>, siteNumber: string, id: string): Promise<Buffer | null> {
    const rows: { bundle_ciphertext: Buffer }[] = await db.query(
      `SELECT bundle_ciphertext FROM ${this.table} WHERE site_number = $1 AND id = $2`,
      [siteNumber, id],
    );
    return rows[0]?.bundle_ciphertext ?? null;
  }
}

/** A sealed record as the gateway gets it: 400 for a malformed site or id, 404 when not held. */
async function sealedContent(
  site: string,
  id: string,
  what: 'referral' | 'form',
  recordId: string,
  find: () => Promise<Buffer | null>,
): Promise<{ recordId: string; ciphertext: string }> {
  if (!SITE.test(site) || !UUID.test(id)) {
    throw new HttpException({ statusCode: 400, error: 'invalid_request', message: 'bad site or id' }, 400);
  }
  const ciphertext = await find();
  if (!ciphertext) {
    throw new HttpException({ statusCode: 404, error: 'not_found', message: `no such ${what}` }, 404);
  }
  return { recordId, ciphertext: ciphertext.toString('base64') };
}

/** A kind of record the gateway fetches sealed: its routes, its record id and how it is read. */
interface SealedRecordKind {
  path: string;
  what: 'referral' | 'form';
  recordId: (id: string) => string;
  reader: (schema: string) => (db: DataSource, site: string, id: string) => Promise<Buffer | null>;
}

/** The controller serving `GET <path>/:id/sealed` for one kind of record, to `emr-gateway` only. */
function sealedContentController(kind: SealedRecordKind): Type {
  @Controller(kind.path)
  @UseGuards(AuthGuard)
  class SealedContentController {
    private readonly find: ReturnType<SealedRecordKind['reader']>;

    constructor(
      private readonly dataSource: DataSource,
      @Inject(SERVICE_CONFIG) config: IntakeConfig,
    ) {
      this.find = kind.reader(config.DATABASE_SCHEMA);
    }

    @Get(':id/sealed')
    @AllowServices('emr-gateway')
    async sealed(
      @Param('site') site: string,
      @Param('id') id: string,
    ): Promise<{ recordId: string; ciphertext: string }> {
      return sealedContent(site, id, kind.what, kind.recordId(id), () =>
        this.find(this.dataSource, site, id),
      );
    }
  }
  return SealedContentController;
}

/**
 * What `emr-gateway` fetches after `referral.received` to put a referral into the chart: the
 * stored bundle as it is at rest, i.e. the vault service's envelope under the site's SEK, bound to
 * (site, referral id). Intake never decrypts for this; the gateway opens it through the vault
 * service. Service token of `emr-gateway` only (docs/emr.md, "Into the chart").
 */
export const ReferralContentController = sealedContentController({
  path: 'internal/sites/:site/referrals',
  what: 'referral',
  recordId: (id) => id,
  reader: (schema) => {
    const bundles = new SealedBundlesRepository(schema);
    return (db, site, id) => bundles.find(db, site, id);
  },
});

/** The same for a completed form (record id `form/<id>`). */
export const FormContentController = sealedContentController({
  path: 'internal/sites/:site/forms',
  what: 'form',
  recordId: (id) => `form/${id}`,
  reader: (schema) => {
    const forms = new CompletedFormsRepository(schema);
    return (db, site, id) => forms.ciphertext(db, site, id);
  },
});

@Module({ controllers: [ReferralContentController, FormContentController] })
export class ChartContentModule {}
