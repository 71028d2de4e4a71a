import {
  actorOf,
  AllowAdmins,
  AuthGuard,
  CurrentPrincipal,
  STEP_UP_SECONDS,
  type Principal,
} from '@cloud-connect/auth';
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
  create(
    @Param('site') site: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
  ): Promise<unknown> {
    return this.createClient.execute(site, (body ?? {}) as CreateClientInput, actorOf(principal));
  }

  @Get()
  @AllowAdmins({ siteParam: 'site' })
  async list(@Param('site') site: string): Promise<unknown> {
    return { clients: await this.listClients.execute(site) };
  }

  @Post(':clientId/revoke')
  @HttpCode(200)
  @AllowAdmins({ siteParam: 'site' })
  revoke(
    @Param('site') site: string,
    @Param('clientId') clientId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<unknown> {
    return this.revokeClient.execute(site, clientId, actorOf(principal));
  }

  @Post(':clientId/rotate')
  @HttpCode(200)
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: STEP_UP_SECONDS, mfa: true })
  rotate(
    @Param('site') site: string,
    @Param('clientId') clientId: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
  ): Promise<unknown> {
    return this.rotateSecret.execute(site, clientId, body ?? {}, actorOf(principal));
  }
}
