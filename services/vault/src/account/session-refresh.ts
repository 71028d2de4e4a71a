import { ADMIN_TOKEN_TTL_SECONDS, AdminTokenVerifier, Public, signAdminToken } from '@cloud-connect/auth';
import { Controller, Headers, HttpCode, HttpException, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import type { IssuedToken } from '../identity/sign-in';
import { AdminSigningKeys } from '../identity/signing-keys';
import { UsersRepository } from '../identity/users.repository';

/** A session slides for at most this long after the person last typed their password. */
export const MAX_SESSION_SECONDS = 8 * 3600;

function unauthorized(reply: FastifyReply, error: string, message: string): HttpException {
  void reply.header('WWW-Authenticate', 'Bearer');
  return new HttpException({ statusCode: 401, error, message }, 401);
}

/**
 * Sliding sessions: a still-valid access token is exchanged for a new one (same `authTime`, the
 * roles read again, so a removed administrator loses the site at the next refresh), up to
 * MAX_SESSION_SECONDS after the last password; then the person signs in again.
 */
@Controller('auth')
export class SessionRefreshController {
  private readonly users: UsersRepository;

  constructor(
    private readonly dataSource: DataSource,
    private readonly verifier: AdminTokenVerifier,
    private readonly keys: AdminSigningKeys,
  ) {
    this.users = new UsersRepository(dataSource);
  }

  @Post('refresh')
  @Public('checks the bearer token itself (an admin token near its end)')
  @HttpCode(200)
  async refresh(
    @Headers('authorization') authorization: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<IssuedToken> {
    const principal = authorization?.startsWith('Bearer ')
      ? await this.verifier.verify(authorization.slice(7)).catch(() => null)
      : null;
    if (!principal) throw unauthorized(reply, 'unauthorized', 'a valid access token is required');
    if (Date.now() / 1000 - principal.authTime > MAX_SESSION_SECONDS)
      throw unauthorized(reply, 'session-too-old', 'sign in again');
    const user = await this.users.findById(this.dataSource.manager, principal.userId);
    if (!user || user.disabled) throw unauthorized(reply, 'unauthorized', 'this account cannot sign in');
    const sites = await this.users.rolesOf(this.dataSource.manager, user.id);
    const token = await signAdminToken(
      { userId: user.id, email: user.email, sites, authTime: principal.authTime },
      this.keys.signingKey,
    );
    return { access_token: token, token_type: 'Bearer', expires_in: ADMIN_TOKEN_TTL_SECONDS };
  }
}
