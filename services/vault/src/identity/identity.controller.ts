import { Public, STEP_UP_SECONDS } from '@cloud-connect/auth';
import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  HttpException,
  Ip,
  Param,
  Post,
  Res,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { AdminSessions } from './sessions';
import { SignIn, type IssuedToken } from './sign-in';
import { AdminSigningKeys } from './signing-keys';
import { AccountSecurity } from './account-security';
import { SignedIn, type SignedInCall } from './signed-in';
import { TotpFactor } from './totp';

const code = z.string().trim().min(6).max(32).optional();
export const signInBody = z.object({
  email: z.string().min(1).max(320),
  password: z.string().min(1).max(256),
  code,
});
export const reauthBody = z.object({ password: z.string().min(1).max(256), code });
export const refreshBody = z.object({ refresh_token: z.string().min(20).max(200).optional() });
export const confirmTotpBody = z.object({
  code: z
    .string()
    .trim()
    .regex(/^[0-9]{6}$/, 'code: 6 digits'),
});
export const changePasswordBody = z.object({
  currentPassword: z.string().min(1).max(256),
  newPassword: z
    .string()
    .min(12, 'a password has at least 12 characters')
    .max(256, 'a password has at most 256 characters'),
  code,
});
const sessionIdParam = z.uuid();

/** The answer of the authenticator set-up's confirmation: the recovery codes, shown once. */
interface TotpConfirmed {
  recoveryCodes: string[];
  message: string;
}
/** The answer of a password change. */
interface PasswordChanged {
  otherSessionsSignedOut: number;
}

function badRequest(error: z.ZodError): HttpException {
  const details = error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  return new HttpException(
    { statusCode: 400, error: 'invalid-request', message: details.join('; '), details },
    400,
  );
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw badRequest(parsed.error);
  return parsed.data;
}

/**
 * Sign-in (password, then the authenticator code once set up), step-up, sessions (list, sign
 * out, sign out everywhere), the authenticator set-up, password change, and the public keys.
 * Routes outside a site check the bearer token and its session themselves.
 */
@Controller()
export class IdentityController {
  constructor(
    private readonly signIn: SignIn,
    private readonly keys: AdminSigningKeys,
    private readonly sessions: AdminSessions,
    private readonly totp: TotpFactor,
    private readonly security: AccountSecurity,
  ) {}

  @Post('auth/login')
  @Public('sign-in: the password (and code) is the credential (throttled per account and address)')
  @HttpCode(200)
  async login(
    @Body() body: unknown,
    @Ip() ip: string,
    @Headers('user-agent') userAgent: string | undefined,
  ): Promise<IssuedToken> {
    const { email, password, code: given } = parse(signInBody, body);
    return this.signIn.withPassword(email, password, { sourceAddress: ip, userAgent, code: given });
  }

  @Post('auth/reauthenticate')
  @Public('checks the bearer token and its session itself, then the password (and code)')
  @HttpCode(200)
  async reauthenticate(@SignedIn() call: SignedInCall, @Body() body: unknown): Promise<IssuedToken> {
    const { password, code: given } = parse(reauthBody, body);
    return this.signIn.reauthenticate(call.principal, password, {
      sourceAddress: call.sourceAddress,
      code: given,
    });
  }

  @Post('auth/refresh')
  @Public('checks the bearer token or the refresh token, and its session')
  @HttpCode(200)
  async refresh(
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
  ): Promise<IssuedToken> {
    const { refresh_token: refreshToken } = parse(refreshBody, body);
    if (refreshToken) return this.sessions.refresh({ refreshToken });
    return this.sessions.refresh(
      authorization?.startsWith('Bearer ') ? { accessToken: authorization.slice(7) } : {},
    );
  }

  @Post('auth/logout')
  @Public('checks the bearer token itself: ends its own session')
  @HttpCode(204)
  async logout(@SignedIn() call: SignedInCall): Promise<void> {
    await this.sessions.revoke(call.principal, call.principal.sessionId, call.sourceAddress);
  }

  @Post('auth/logout-everywhere')
  @Public('checks the bearer token itself: ends all sessions of its own person')
  @HttpCode(200)
  async logoutEverywhere(@SignedIn() call: SignedInCall): Promise<{ revoked: number }> {
    return { revoked: await this.sessions.revokeAll(call.principal, call.sourceAddress) };
  }

  @Get('auth/sessions')
  @Public('checks the bearer token itself: lists its own person’s sessions')
  async listSessions(@SignedIn() call: SignedInCall): Promise<unknown> {
    return { sessions: await this.sessions.list(call.principal) };
  }

  @Delete('auth/sessions/:id')
  @Public('checks the bearer token itself: ends one of its own person’s sessions')
  @HttpCode(204)
  async revokeSession(@SignedIn() call: SignedInCall, @Param('id') id: string): Promise<void> {
    if (!sessionIdParam.safeParse(id).success)
      throw new HttpException({ statusCode: 404, error: 'no-such-session', message: 'no such session' }, 404);
    await this.sessions.revoke(call.principal, id, call.sourceAddress);
  }

  @Get('auth/mfa')
  @Public('checks the bearer token itself: its own person’s second factor')
  async mfaStatus(@SignedIn() call: SignedInCall): Promise<unknown> {
    return this.totp.status(call.principal.userId);
  }

  @Post('auth/mfa/totp')
  @Public('checks the bearer token itself and a sign-in within 5 minutes')
  @HttpCode(201)
  async beginTotp(
    @SignedIn() { principal }: SignedInCall,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ otpauthUri: string; secret: string }> {
    if (Date.now() / 1000 - principal.authTime > STEP_UP_SECONDS) {
      void reply.header(
        'WWW-Authenticate',
        `Bearer error="insufficient_user_authentication", error_description="re-authentication required", max_age=${STEP_UP_SECONDS}`,
      );
      throw new HttpException(
        {
          statusCode: 401,
          error: 'step-up-required',
          message: 'this action needs a fresh sign-in: re-authenticate and retry',
        },
        401,
      );
    }
    return this.totp.begin(principal.userId, principal.email);
  }

  @Post('auth/mfa/totp/confirm')
  @Public('checks the bearer token itself; the code proves the authenticator app')
  @HttpCode(200)
  async confirmTotp(@SignedIn() call: SignedInCall, @Body() body: unknown): Promise<TotpConfirmed> {
    const { code: given } = parse(confirmTotpBody, body);
    const recoveryCodes = await this.security.confirmTotp(call.principal, given, call.sourceAddress);
    return {
      recoveryCodes,
      message:
        'the authenticator app is set up: sign in again to use it; keep these recovery codes somewhere safe (each works once)',
    };
  }

  @Post('auth/password/change')
  @Public('checks the bearer token itself, then the current password')
  @HttpCode(200)
  async changePassword(@SignedIn() call: SignedInCall, @Body() body: unknown): Promise<PasswordChanged> {
    const { currentPassword, newPassword, code: given } = parse(changePasswordBody, body);
    return this.security.changePassword(call.principal, currentPassword, newPassword, {
      sourceAddress: call.sourceAddress,
      code: given,
    });
  }

  @Get('.well-known/jwks.json')
  @Public('public keys that verify admin tokens')
  jwks(): unknown {
    return this.keys.jwks;
  }
}
