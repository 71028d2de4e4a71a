import { AllowAdmins, AuthGuard, SiteCaller, STEP_UP_SECONDS, type SiteCall } from '@cloud-connect/auth';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpException,
  Param,
  Post,
  Put,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import {
  SekCustody,
  type SekDestroyApproval,
  type SekDestroyed,
  type SekRemoved,
  type SekRestored,
  type SekView,
} from './sek-custody';
import type { SekEventRow } from './sek-events.repository';

/** Every SEK action that could let it out needs a sign-in within this many seconds (step-up). */
export const SEK_RECENT_AUTH_SECONDS = STEP_UP_SECONDS;

export const sekBody = z
  .object({ sek: z.string({ message: 'sek is required (base64 text of 32 bytes)' }) })
  .strict();

/** What a store or replace answers: the site and the SEK's new version. */
export interface SekVersionAnswer {
  siteNumber: string;
  version: number;
}

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
  store(@SiteCaller() call: SiteCall, @Body() body: unknown): Promise<SekVersionAnswer> {
    return this.write('store', call, body);
  }

  @Put()
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: SEK_RECENT_AUTH_SECONDS, mfa: true })
  replace(@SiteCaller() call: SiteCall, @Body() body: unknown): Promise<SekVersionAnswer> {
    return this.write('replace', call, body);
  }

  @Get()
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: SEK_RECENT_AUTH_SECONDS, mfa: true })
  view(@SiteCaller() call: SiteCall, @Res({ passthrough: true }) reply: FastifyReply): Promise<SekView> {
    void reply.header('Cache-Control', 'no-store');
    return this.custody.view(call.site, call.principal, call);
  }

  /** Soft delete: recoverable (restore) for the recovery window; see SekCustody.remove. */
  @Delete()
  @HttpCode(200)
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: SEK_RECENT_AUTH_SECONDS, mfa: true })
  async remove(@SiteCaller() call: SiteCall): Promise<OfSite<SekRemoved>> {
    return ofSite(call.site, await this.custody.remove(call.site, call.principal, call));
  }

  @Post('restore')
  @HttpCode(200)
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: SEK_RECENT_AUTH_SECONDS })
  async restore(@SiteCaller() call: SiteCall): Promise<OfSite<SekRestored>> {
    return ofSite(call.site, await this.custody.restore(call.site, call.principal, call));
  }

  /** Two-person rule: a second admin (not the one who removed it) approves the destruction. */
  @Post('destroy-approval')
  @HttpCode(200)
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: SEK_RECENT_AUTH_SECONDS, mfa: true })
  async approveDestroy(@SiteCaller() call: SiteCall): Promise<OfSite<SekDestroyApproval>> {
    return ofSite(call.site, await this.custody.approveDestroy(call.site, call.principal, call));
  }

  /** After the recovery window and with a second admin's approval: every version destroyed. */
  @Post('destroy')
  @HttpCode(200)
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: SEK_RECENT_AUTH_SECONDS, mfa: true })
  async destroy(@SiteCaller() call: SiteCall): Promise<OfSite<SekDestroyed>> {
    return ofSite(call.site, await this.custody.destroy(call.site, call.principal, call));
  }

  @Get('history')
  @AllowAdmins({ siteParam: 'site' })
  async history(@Param('site') site: string): Promise<{ siteNumber: string; events: SekEventRow[] }> {
    return { siteNumber: site, events: await this.custody.history(site) };
  }

  /** Store and replace: the body's SEK as the site's new version. */
  private async write(action: 'store' | 'replace', call: SiteCall, body: unknown): Promise<SekVersionAnswer> {
    const { version } = await this.custody[action](call.site, call.principal, call, parseBody(body));
    return { siteNumber: call.site, version };
  }
}

/** The answer of a SEK action: the site's number and what the action returned. */
type OfSite<T> = { siteNumber: string } & T;

function ofSite<T extends object>(site: string, result: T): OfSite<T> {
  return { siteNumber: site, ...result };
}
