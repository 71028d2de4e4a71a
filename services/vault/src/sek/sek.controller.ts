import {
  AllowAdmins,
  AuthGuard,
  CurrentPrincipal,
  STEP_UP_SECONDS,
  type Principal,
} from '@cloud-connect/auth';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpException,
  Ip,
  Param,
  Post,
  Put,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { SekCustody, type SekView } from './sek-custody';
import type { SekEventRow } from './sek-events.repository';

/** Every SEK action that could let it out needs a sign-in within this many seconds (step-up). */
export const SEK_RECENT_AUTH_SECONDS = STEP_UP_SECONDS;

export const sekBody = z
  .object({ sek: z.string({ message: 'sek is required (base64 text of 32 bytes)' }) })
  .strict();

function parseBody(body: unknown): string {
  const parsed = sekBody.safeParse(body);
  if (!parsed.success) {
    const message = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    throw new HttpException({ statusCode: 400, error: 'invalid_request', message }, 400);
  }
  return parsed.data.sek;
}

/** A site's SEK: its admins only; every attempt is audited and alerted (see SekCustody). */
@Controller('sites/:site/sek')
@UseGuards(AuthGuard)
export class SekController {
  constructor(private readonly custody: SekCustody) {}

  @Post()
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: SEK_RECENT_AUTH_SECONDS })
  async store(
    @Param('site') site: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @Ip() ip: string,
  ): Promise<{ siteNumber: string; version: number }> {
    const sek = parseBody(body);
    const { version } = await this.custody.store(site, principal, { sourceAddress: ip }, sek);
    return { siteNumber: site, version };
  }

  @Put()
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: SEK_RECENT_AUTH_SECONDS, mfa: true })
  async replace(
    @Param('site') site: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @Ip() ip: string,
  ): Promise<{ siteNumber: string; version: number }> {
    const sek = parseBody(body);
    const { version } = await this.custody.replace(site, principal, { sourceAddress: ip }, sek);
    return { siteNumber: site, version };
  }

  @Get()
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: SEK_RECENT_AUTH_SECONDS, mfa: true })
  async view(
    @Param('site') site: string,
    @CurrentPrincipal() principal: Principal,
    @Ip() ip: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SekView> {
    void reply.header('Cache-Control', 'no-store');
    return this.custody.view(site, principal, { sourceAddress: ip });
  }

  /** Soft delete: recoverable (restore) for the recovery window; see SekCustody.remove. */
  @Delete()
  @HttpCode(200)
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: SEK_RECENT_AUTH_SECONDS, mfa: true })
  async remove(
    @Param('site') site: string,
    @CurrentPrincipal() principal: Principal,
    @Ip() ip: string,
  ): Promise<{ siteNumber: string; removed: true; recoverableUntil: string }> {
    return {
      siteNumber: site,
      ...(await this.custody.remove(site, principal, { sourceAddress: ip })),
    };
  }

  @Post('restore')
  @HttpCode(200)
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: SEK_RECENT_AUTH_SECONDS })
  async restore(
    @Param('site') site: string,
    @CurrentPrincipal() principal: Principal,
    @Ip() ip: string,
  ): Promise<{ siteNumber: string; restored: true; versions: number[] }> {
    return {
      siteNumber: site,
      ...(await this.custody.restore(site, principal, { sourceAddress: ip })),
    };
  }

  /** Two-person rule: a second admin (not the one who removed it) approves the destruction. */
  @Post('destroy-approval')
  @HttpCode(200)
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: SEK_RECENT_AUTH_SECONDS, mfa: true })
  async approveDestroy(
    @Param('site') site: string,
    @CurrentPrincipal() principal: Principal,
    @Ip() ip: string,
  ): Promise<{ siteNumber: string; approved: true; destroyableFrom: string }> {
    return {
      siteNumber: site,
      ...(await this.custody.approveDestroy(site, principal, { sourceAddress: ip })),
    };
  }

  /** After the recovery window and with a second admin's approval: every version destroyed. */
  @Post('destroy')
  @HttpCode(200)
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: SEK_RECENT_AUTH_SECONDS, mfa: true })
  async destroy(
    @Param('site') site: string,
    @CurrentPrincipal() principal: Principal,
    @Ip() ip: string,
  ): Promise<{ siteNumber: string; destroyed: true }> {
    return {
      siteNumber: site,
      ...(await this.custody.destroy(site, principal, { sourceAddress: ip })),
    };
  }

  @Get('history')
  @AllowAdmins({ siteParam: 'site' })
  async history(@Param('site') site: string): Promise<{ siteNumber: string; events: SekEventRow[] }> {
    return { siteNumber: site, events: await this.custody.history(site) };
  }
}
