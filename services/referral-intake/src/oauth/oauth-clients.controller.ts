import { AllowAdmins, AuthGuard, type SiteCall, SiteCaller, STEP_UP_SECONDS } from '@cloud-connect/auth';
import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { type CreateClientInput } from './oauth-client';
import {
  CreateOAuthClient,
  ListOAuthClients,
  RevokeOAuthClient,
  RotateOAuthClientSecret,
} from './oauth-client-use-cases';

/** Site admins manage their integrators' OAuth credentials. Secrets appear once, in the answer that made them. */
@Controller('admin/sites/:site/oauth-clients')
@UseGuards(AuthGuard)
export class OAuthClientsController {
  constructor(
    private readonly createClient: CreateOAuthClient,
    private readonly listClients: ListOAuthClients,
    private readonly revokeClient: RevokeOAuthClient,
    private readonly rotateSecret: RotateOAuthClientSecret,
  ) {}

  @Post()
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: STEP_UP_SECONDS, mfa: true })
  create(@SiteCaller() call: SiteCall, @Body() body: unknown): Promise<unknown> {
    return this.createClient.execute(call.site, (body ?? {}) as CreateClientInput, call.actor);
  }

  @Get()
  @AllowAdmins({ siteParam: 'site' })
  async list(@Param('site') site: string): Promise<unknown> {
    return { clients: await this.listClients.execute(site) };
  }

  @Post(':clientId/revoke')
  @HttpCode(200)
  @AllowAdmins({ siteParam: 'site' })
  revoke(@SiteCaller() call: SiteCall, @Param('clientId') clientId: string): Promise<unknown> {
    return this.revokeClient.execute(call.site, clientId, call.actor);
  }

  @Post(':clientId/rotate')
  @HttpCode(200)
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: STEP_UP_SECONDS, mfa: true })
  rotate(
    @SiteCaller() call: SiteCall,
    @Param('clientId') clientId: string,
    @Body() body: unknown,
  ): Promise<unknown> {
    return this.rotateSecret.execute(call.site, clientId, body ?? {}, call.actor);
  }
}
