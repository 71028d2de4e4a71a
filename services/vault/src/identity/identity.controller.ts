import { AdminTokenVerifier, Public } from '@cloud-connect/auth';
import { Body, Controller, Get, Headers, HttpCode, HttpException, Ip, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { SignIn, type IssuedToken } from './sign-in';
import { AdminSigningKeys } from './signing-keys';

export const signInBody = z.object({
  email: z.string().min(1).max(320),
  password: z.string().min(1).max(256),
});
export const reauthBody = z.object({ password: z.string().min(1).max(256) });

function badRequest(error: z.ZodError): HttpException {
  return new HttpException(
    {
      statusCode: 400,
      error: 'invalid_request',
      message: error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    },
    400,
  );
}

/** Sign-in for site admins, re-authentication for sensitive actions, and the public keys. */
@Controller()
export class IdentityController {
  constructor(
    private readonly signIn: SignIn,
    private readonly keys: AdminSigningKeys,
    private readonly verifier: AdminTokenVerifier,
  ) {}

  @Post('auth/login')
  @Public('sign-in: the password is the credential (throttled per account and address)')
  @HttpCode(200)
  async login(@Body() body: unknown, @Ip() ip: string): Promise<IssuedToken> {
    const parsed = signInBody.safeParse(body);
    if (!parsed.success) throw badRequest(parsed.error);
    return this.signIn.withPassword(parsed.data.email, parsed.data.password, ip);
  }

  @Post('auth/reauthenticate')
  @Public('checks the bearer token itself, then the password')
  @HttpCode(200)
  async reauthenticate(
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
    @Ip() ip: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<IssuedToken> {
    const principal = authorization?.startsWith('Bearer ')
      ? await this.verifier.verify(authorization.slice(7)).catch(() => null)
      : null;
    if (!principal) {
      void reply.header('WWW-Authenticate', 'Bearer');
      throw new HttpException(
        { statusCode: 401, error: 'unauthorized', message: 'a valid access token is required' },
        401,
      );
    }
    const parsed = reauthBody.safeParse(body);
    if (!parsed.success) throw badRequest(parsed.error);
    return this.signIn.reauthenticate(principal, parsed.data.password, ip);
  }

  @Get('.well-known/jwks.json')
  @Public('public keys that verify admin tokens')
  jwks(): unknown {
    return this.keys.jwks;
  }
}
