import { AllowServices, AuthGuard, CurrentPrincipal, actorOf, type Principal } from '@cloud-connect/auth';
import { Body, Controller, HttpCode, HttpException, Param, Post, UseGuards } from '@nestjs/common';
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

const encryptBody = z
  .object({
    items: z
      .array(z.object({ recordId, plaintext: base64 }))
      .min(1)
      .max(PHI_MAX_ITEMS),
  })
  .strict();
const decryptBody = z
  .object({
    items: z
      .array(z.object({ recordId, ciphertext: base64 }))
      .min(1)
      .max(PHI_MAX_ITEMS),
  })
  .strict();

const unwrapBody = z
  .object({
    items: z
      .array(z.object({ wrappedKey: base64 }))
      .min(1)
      .max(PHI_MAX_ITEMS),
  })
  .strict();
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
  async encrypt(
    @Param('site') site: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
  ): Promise<{ items: { recordId: string; ciphertext: string }[] }> {
    const { items } = parse(encryptBody, body);
    const sealed = await this.crypto.encrypt(
      site,
      actorOf(principal),
      items.map((i) => ({ recordId: i.recordId, plaintext: Buffer.from(i.plaintext, 'base64') })),
    );
    return {
      items: sealed.map((i) => ({ recordId: i.recordId, ciphertext: i.ciphertext.toString('base64') })),
    };
  }

  @Post('decrypt')
  @LargeBody(PHI_BATCH_BODY_LIMIT)
  @HttpCode(200)
  @AllowServices('referral-intake', 'emr-gateway', 'notifier')
  async decrypt(
    @Param('site') site: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
  ): Promise<{ items: { recordId: string; plaintext: string }[] }> {
    const { items } = parse(decryptBody, body);
    const opened = await this.crypto.decrypt(
      site,
      actorOf(principal),
      items.map((i) => ({ recordId: i.recordId, ciphertext: Buffer.from(i.ciphertext, 'base64') })),
    );
    return {
      items: opened.map((i) => ({ recordId: i.recordId, plaintext: i.plaintext.toString('base64') })),
    };
  }

  /** A fresh data key for the site (plaintext + wrapped under the current SEK version); audited once. */
  @Post('data-keys')
  @HttpCode(200)
  @AllowServices('referral-intake', 'emr-gateway')
  async issueDataKey(
    @Param('site') site: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
  ): Promise<{ keyId: string; key: string; wrappedKey: string; sekVersion: number }> {
    parse(issueBody, body ?? {});
    const issued = await this.crypto.issueDataKey(site, actorOf(principal));
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
    @Param('site') site: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
  ): Promise<{ items: { key: string }[] }> {
    const { items } = parse(unwrapBody, body);
    const keys = await this.crypto.unwrapDataKeys(
      site,
      actorOf(principal),
      items.map((i) => Buffer.from(i.wrappedKey, 'base64')),
    );
    const answer = keys.map((k) => ({ key: k.toString('base64') }));
    keys.forEach((k) => k.fill(0));
    return { items: answer };
  }
}
