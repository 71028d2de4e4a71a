import {
  AllowAdmins,
  AuthGuard,
  Public,
  SiteCaller,
  STEP_UP_SECONDS,
  type SiteCall,
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

function callerOf({ principal, actor, sourceAddress }: SiteCall): Caller {
  return { actor, email: principal.kind === 'admin' ? principal.email : actor, sourceAddress };
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
  update(@SiteCaller() call: SiteCall, @Body() body: unknown): Promise<Record<string, unknown>> {
    const change = parse(updateSiteAccountBody, body);
    return this.account.update(call.site, change, callerOf(call));
  }

  @Get('admins')
  @AllowAdmins({ siteParam: 'site', role: 'admin' })
  async admins(@Param('site') site: string): Promise<{ admins: unknown[] }> {
    return { admins: await this.account.people(site) };
  }

  @Post('admins')
  @HttpCode(201)
  @AllowAdmins({ siteParam: 'site', role: 'admin', recentAuthSeconds: STEP_UP_SECONDS })
  invite(@SiteCaller() call: SiteCall, @Body() body: unknown): Promise<unknown> {
    const { email } = parse(inviteAdminBody, body);
    return this.account.invite(call.site, email, callerOf(call));
  }

  @Delete('admins/:userId')
  @HttpCode(204)
  @AllowAdmins({ siteParam: 'site', role: 'admin' })
  async remove(@SiteCaller() call: SiteCall, @Param('userId') userId: string): Promise<void> {
    const id = userIdOf(userId);
    await this.account.remove(call.site, id, callerOf(call));
  }

  @Post('admins/:userId/reset')
  @HttpCode(202)
  @AllowAdmins({ siteParam: 'site', role: 'admin' })
  async reset(@SiteCaller() call: SiteCall, @Param('userId') userId: string): Promise<{ message: string }> {
    const id = userIdOf(userId);
    await this.account.sendReset(call.site, id, callerOf(call));
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
