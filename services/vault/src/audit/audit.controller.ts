import { AllowAdmins, AuthGuard } from '@cloud-connect/auth';
import { Controller, Get, HttpException, Param, Query, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { ChainedEntry } from './audit-chain';
import { AuditTrail, auditQueryInput, toCsv, type SiteVerifyResult } from './audit-trail';

/** A site's audit trail, for that site's admins: query (JSON or CSV) and chain verification. */
@Controller('sites/:site/audit')
@UseGuards(AuthGuard)
export class AuditController {
  constructor(private readonly trail: AuditTrail) {}

  @Get()
  @AllowAdmins({ siteParam: 'site' })
  async list(
    @Param('site') site: string,
    @Query() query: Record<string, string>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ siteNumber: string; entries: ChainedEntry[] } | string> {
    const parsed = auditQueryInput.safeParse(query);
    if (!parsed.success) {
      const message = parsed.error.issues
        .map((i) => `${i.path.join('.') || 'query'}: ${i.message}`)
        .join('; ');
      throw new HttpException({ statusCode: 400, error: 'invalid_request', message }, 400);
    }
    const entries = await this.trail.query(site, parsed.data);
    if (parsed.data.format === 'csv') {
      void reply
        .header('Content-Type', 'text/csv; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="audit-site-${site}.csv"`);
      return toCsv(entries);
    }
    return { siteNumber: site, entries };
  }

  @Get('verify')
  @AllowAdmins({ siteParam: 'site' })
  async verify(@Param('site') site: string): Promise<SiteVerifyResult> {
    return this.trail.verify(site);
  }
}
