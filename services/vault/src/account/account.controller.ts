import {
  actorOf,
  AllowAdmins,
  AuthGuard,
  CurrentPrincipal,
  Public,
  STEP_UP_SECONDS,
  type Principal,
} from '@cloud-connect/auth';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Ip,
  NotFoundException,
  Param,
  Patch,
  Post,
  UseGuards,
} from '@nestjs/common';
import { z } from 'zod';
import { parse } from './account-http';
import {
  forgotPasswordBody,
  inviteAdminBody,
  resetPasswordBody,
  updateSiteAccountBody,
} from './account.schemas';
import { PasswordLinks } from './password-links';
import { SiteAccount, type Caller } from './site-account';

const userIdParam = z.uuid();

function callerOf(principal: Principal, ip: string): Caller {
  return {
    actor: actorOf(principal),
    email: principal.kind === 'admin' ? principal.email : actorOf(principal),
    sourceAddress: ip,
  };
}

function userIdOf(value: string): string {
  if (!userIdParam.safeParse(value).success)
    throw new NotFoundException({
      statusCode: 404,
      error: 'not-found',
      message: 'no such administrator at this site',
    });
  return value;
}

/** The site account: settings and the site's administrators (invite, remove, reset). */
@Controller('admin/sites/:site')
@UseGuards(AuthGuard)
export class SiteAccountController {
  constructor(private readonly account: SiteAccount) {}

  @Patch()
  @AllowAdmins({ siteParam: 'site', role: 'admin' })
  update(
    @Param('site') site: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @Ip() ip: string,
  ): Promise<Record<string, unknown>> {
    const change = parse(updateSiteAccountBody, body);
    return this.account.update(site, change, callerOf(principal, ip));
  }

  @Get('admins')
  @AllowAdmins({ siteParam: 'site', role: 'admin' })
  async admins(@Param('site') site: string): Promise<{ admins: unknown[] }> {
    return { admins: await this.account.people(site) };
  }

  @Post('admins')
  @HttpCode(201)
  @AllowAdmins({ siteParam: 'site', role: 'admin', recentAuthSeconds: STEP_UP_SECONDS })
  invite(
    @Param('site') site: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @Ip() ip: string,
  ): Promise<unknown> {
    const { email } = parse(inviteAdminBody, body);
    return this.account.invite(site, email, callerOf(principal, ip));
  }

  @Delete('admins/:userId')
  @HttpCode(204)
  @AllowAdmins({ siteParam: 'site', role: 'admin' })
  async remove(
    @Param('site') site: string,
    @Param('userId') userId: string,
    @CurrentPrincipal() principal: Principal,
    @Ip() ip: string,
  ): Promise<void> {
    const id = userIdOf(userId);
    await this.account.remove(site, id, callerOf(principal, ip));
  }

  @Post('admins/:userId/reset')
  @HttpCode(202)
  @AllowAdmins({ siteParam: 'site', role: 'admin' })
  async reset(
    @Param('site') site: string,
    @Param('userId') userId: string,
    @CurrentPrincipal() principal: Principal,
    @Ip() ip: string,
  ): Promise<{ message: string }> {
    const id = userIdOf(userId);
    await this.account.sendReset(site, id, callerOf(principal, ip));
    return { message: 'a password reset link was e-mailed' };
  }
}

export const FORGOT_ANSWER =
  'if this address has a Cloud Connect account, an e-mail with a link to choose a new password is on its way';

/** Forgotten passwords and one-time links (no sign-in: the link is the proof). */
@Controller('auth/password')
export class PasswordController {
  constructor(private readonly links: PasswordLinks) {}

  @Post('forgot')
  @Public('asks for a reset link: the same answer for any address, throttled per address and source')
  @HttpCode(202)
  async forgot(@Body() body: unknown, @Ip() ip: string): Promise<{ message: string }> {
    const { email } = parse(forgotPasswordBody, body);
    await this.links.forgot(email, ip);
    return { message: FORGOT_ANSWER };
  }

  @Post('reset')
  @Public('the one-time link from the e-mail is the credential')
  @HttpCode(200)
  reset(@Body() body: unknown, @Ip() ip: string): Promise<{ email: string }> {
    const { token, password } = parse(resetPasswordBody, body);
    return this.links.reset(token, password, ip);
  }
}
