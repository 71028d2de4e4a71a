import { AllowAdmins, AuthGuard, CurrentPrincipal, type Principal } from '@cloud-connect/auth';
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

/** Viewing or removing the SEK needs a password proved within this many seconds. */
export const SEK_RECENT_AUTH_SECONDS = 300;

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
  @AllowAdmins({ siteParam: 'site' })
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
  @AllowAdmins({ siteParam: 'site' })
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
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: SEK_RECENT_AUTH_SECONDS })
  async view(
    @Param('site') site: string,
    @CurrentPrincipal() principal: Principal,
    @Ip() ip: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SekView> {
    void reply.header('Cache-Control', 'no-store');
    return this.custody.view(site, principal, { sourceAddress: ip });
  }

  @Delete()
  @HttpCode(200)
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: SEK_RECENT_AUTH_SECONDS })
  async remove(
    @Param('site') site: string,
    @CurrentPrincipal() principal: Principal,
    @Ip() ip: string,
  ): Promise<{ siteNumber: string; removed: true }> {
    await this.custody.remove(site, principal, { sourceAddress: ip });
    return { siteNumber: site, removed: true as const };
  }

  @Get('history')
  @AllowAdmins({ siteParam: 'site' })
  async history(@Param('site') site: string): Promise<{ siteNumber: string; events: SekEventRow[] }> {
    return { siteNumber: site, events: await this.custody.history(site) };
  }
}
