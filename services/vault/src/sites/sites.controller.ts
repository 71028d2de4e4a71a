import { AllowAdmins, AuthGuard } from '@cloud-connect/auth';
import { Controller, Get, NotFoundException, Param, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { siteView } from './site.entity';
import { SitesRepository } from './sites.repository';

/** A site's own record, for the people who administer it. */
@Controller('admin/sites/:site')
@UseGuards(AuthGuard)
export class SitesController {
  private readonly sites = new SitesRepository();

  constructor(private readonly dataSource: DataSource) {}

  @Get()
  @AllowAdmins({ siteParam: 'site', role: 'admin' })
  async get(@Param('site') siteNumber: string): Promise<Record<string, unknown>> {
    const site = await this.sites.findByNumber(this.dataSource.manager, siteNumber);
    if (!site)
      throw new NotFoundException({
        statusCode: 404,
        error: 'not_found',
        message: `site ${siteNumber} does not exist`,
      });
    return siteView(site);
  }
}
