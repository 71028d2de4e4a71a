import { AllowServices, AuthGuard, SiteCaller, type SiteCall } from '@cloud-connect/auth';
import { Body, Controller, HttpCode, HttpException, Post, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { LargeBody } from '@cloud-connect/service-kit';
import { PhiCrypto } from './phi-crypto';

export const PHI_MAX_ITEMS = 100;
const recordId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:/-]+$/, 'recordId: letters, digits and . _ : / - only');
const base64 = z.base64('must be base64');

/** A batch body: 1 to PHI_MAX_ITEMS items of this shape, and nothing else. */
function batchOf<S extends z.ZodRawShape>(item: S) {
  return z.object({ items: z.array(z.object(item)).min(1).max(PHI_MAX_ITEMS) }).strict();
}
const encryptBody = batchOf({ recordId, plaintext: base64 });
const decryptBody = batchOf({ recordId, ciphertext: base64 });
const unwrapBody = batchOf({ wrappedKey: base64 });
const issueBody = z.object({}).strict();

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    // Field paths and rules only: never the values (they are PHI).
    const message = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    throw new HttpException({ statusCode: 400, error: 'invalid_request', message }, 400);
  }
  return parsed.data;
}

/** One record's content: its id and the content as the field `F` (base64 text on the wire, bytes inside). */
type RecordItem<F extends string, V> = { recordId: string } & Record<F, V>;
/** A per-record answer: each record's content as its field `F`, in base64. */
interface PerRecord<F extends string> {
  items: RecordItem<F, string>[];
}

/**
 * The per-record calls (encrypt, decrypt): each item's `from` field decoded from base64, `work`
 * done on the bytes, and each result's `to` field encoded in base64, record ids and order kept.
 */
async function perRecord<F extends string, T extends string>(
  items: RecordItem<F, string>[],
  from: F,
  to: T,
  work: (items: RecordItem<F, Buffer>[]) => Promise<RecordItem<T, Buffer>[]>,
): Promise<PerRecord<T>> {
  const done = await work(
    items.map(
      (i) => ({ recordId: i.recordId, [from]: Buffer.from(i[from], 'base64') }) as RecordItem<F, Buffer>,
    ),
  );
  return {
    items: done.map(
      (i) => ({ recordId: i.recordId, [to]: i[to].toString('base64') }) as RecordItem<T, string>,
    ),
  };
}

/**
 * PHI keys for the services that hold PHI. `data-keys` and `data-keys/unwrap` are the envelope
 * encryption the services use (they encrypt locally, plaintext PHI never comes here);
 * `encrypt`/`decrypt` (per record, batch of 1..100) remain for records sealed by this service
 * before (format 1) and for clients of the previous release during a rolling upgrade.
 */
/** PHI batches: up to 100 records of base64 text (10 KB records are ~1.4 MB). */
const PHI_BATCH_BODY_LIMIT = 8 * 1024 * 1024;

@Controller('sites/:site/phi')
@UseGuards(AuthGuard)
export class PhiController {
  constructor(private readonly crypto: PhiCrypto) {}

  @Post('encrypt')
  @LargeBody(PHI_BATCH_BODY_LIMIT)
  @HttpCode(200)
  @AllowServices('referral-intake', 'emr-gateway')
  async encrypt(@SiteCaller() call: SiteCall, @Body() body: unknown): Promise<PerRecord<'ciphertext'>> {
    const { items } = parse(encryptBody, body);
    return perRecord(items, 'plaintext', 'ciphertext', (i) => this.crypto.encrypt(call.site, call.actor, i));
  }

  @Post('decrypt')
  @LargeBody(PHI_BATCH_BODY_LIMIT)
  @HttpCode(200)
  @AllowServices('referral-intake', 'emr-gateway', 'notifier')
  async decrypt(@SiteCaller() call: SiteCall, @Body() body: unknown): Promise<PerRecord<'plaintext'>> {
    const { items } = parse(decryptBody, body);
    return perRecord(items, 'ciphertext', 'plaintext', (i) => this.crypto.decrypt(call.site, call.actor, i));
  }

  /** A fresh data key for the site (plaintext + wrapped under the current SEK version); audited once. */
  @Post('data-keys')
  @HttpCode(200)
  @AllowServices('referral-intake', 'emr-gateway')
  async issueDataKey(
    @SiteCaller() call: SiteCall,
    @Body() body: unknown,
  ): Promise<{ keyId: string; key: string; wrappedKey: string; sekVersion: number }> {
    parse(issueBody, body ?? {});
    const issued = await this.crypto.issueDataKey(call.site, call.actor);
    const key = issued.key.toString('base64');
    issued.key.fill(0);
    return {
      keyId: issued.keyId.toString('hex'),
      key,
      wrappedKey: issued.wrapped.toString('base64'),
      sekVersion: issued.sekVersion,
    };
  }

  /** Opens wrapped data keys of the site (results in order); audited once per call. */
  @Post('data-keys/unwrap')
  @LargeBody(PHI_BATCH_BODY_LIMIT)
  @HttpCode(200)
  @AllowServices('referral-intake', 'emr-gateway', 'notifier')
  async unwrapDataKeys(
    @SiteCaller() call: SiteCall,
    @Body() body: unknown,
  ): Promise<{ items: { key: string }[] }> {
    const { items } = parse(unwrapBody, body);
    const keys = await this.crypto.unwrapDataKeys(
      call.site,
      call.actor,
      items.map((i) => Buffer.from(i.wrappedKey, 'base64')),
    );
    const answer = keys.map((k) => ({ key: k.toString('base64') }));
    keys.forEach((k) => k.fill(0));
    return { items: answer };
  }
}
