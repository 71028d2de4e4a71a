import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  createParamDecorator,
  type ExecutionContext,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import { z } from 'zod';
import { IdentityError, RegisterUser } from '../identity/register-user';
import { AdminSigningKeys } from '../identity/signing-keys';
import { RegisterSite, SiteError, type RegisterSiteInput } from '../sites/register-site';
import { AllowOperators, type OperatorRequest } from './operator.guard';

/** Who the operator's actions are audited as: `operator:<name of the credential>`. */
const OperatorActor = createParamDecorator((_data: unknown, ctx: ExecutionContext): string => {
  const operator = ctx.switchToHttp().getRequest<OperatorRequest>().operator;
  if (!operator) throw new Error('OperatorActor used on a route without OperatorGuard');
  return `operator:${operator}`;
});

export const createUserBody = z.object({
  email: z.string(),
  password: z.string(),
  role: z.enum(['admin', 'member']).default('admin'),
});
export const grantBody = z.object({
  email: z.string().min(1),
  role: z.enum(['admin', 'member']).default('admin'),
});

function invalid(code: string, error: z.ZodError): BadRequestException {
  const details = error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  return new BadRequestException({
    statusCode: 400,
    code,
    message: `invalid request: ${details.join('; ')}`,
    details,
  });
}

function toHttp(error: unknown): never {
  if (error instanceof SiteError || error instanceof IdentityError) {
    const body = { code: error.code, message: error.message, details: error.details };
    switch (error.code) {
      case 'invalid-site':
      case 'invalid-user':
      case 'weak-password':
        throw new BadRequestException({ statusCode: 400, ...body });
      case 'site-exists':
      case 'user-exists':
        throw new ConflictException({ statusCode: 409, ...body });
      case 'no-such-site':
      case 'no-such-user':
        throw new NotFoundException({ statusCode: 404, ...body });
    }
  }
  throw error;
}

/**
 * Operator-only actions of the vault service: register a site, create its first admin, grant a
 * role. Only an operator credential opens them (OperatorGuard); each runs the same use case, with
 * the same checks, events and audit entry (actor `operator:<name>`), as everywhere else.
 */
@Controller('operator')
@AllowOperators()
export class OperatorController {
  constructor(
    private readonly registerSite: RegisterSite,
    private readonly registerUser: RegisterUser,
    private readonly signingKeys: AdminSigningKeys,
  ) {}

  /**
   * Replaces the key that signs admin tokens now (e.g. when it may have leaked). Tokens signed by
   * the replaced key stay valid until the overlap ends (ADMIN_SIGNING_KEY_OVERLAP_SECONDS).
   */
  @Post('signing-keys/rotate')
  @HttpCode(200)
  async rotateSigningKey(): Promise<{ kid: string; retired: { kid: string; acceptedUntil: string }[] }> {
    const kid = await this.signingKeys.rotate();
    return { kid, retired: this.signingKeys.retired };
  }

  @Get('signing-keys')
  signingKeysInUse(): { kid: string; retired: { kid: string; acceptedUntil: string }[] } {
    return { kid: this.signingKeys.kid, retired: this.signingKeys.retired };
  }

  /** Lets the CLI check an operator credential before it stores it. */
  @Get('whoami')
  whoami(@OperatorActor() actor: string): { operator: string } {
    return { operator: actor };
  }

  @Post('sites')
  @HttpCode(201)
  async createSite(@Body() body: unknown, @OperatorActor() actor: string): Promise<Record<string, unknown>> {
    const input = (body && typeof body === 'object' ? body : {}) as RegisterSiteInput;
    const site = await this.registerSite.execute(input, actor).catch(toHttp);
    return {
      site: {
        siteNumber: site.siteNumber,
        name: site.name,
        locale: site.locale,
        timezone: site.timezone,
        adminEmail: site.adminEmail,
        clinicalAdminEmail: site.clinicalAdminEmail,
        createdAt: site.createdAt.toISOString(),
      },
    };
  }

  @Post('sites/:site/users')
  @HttpCode(201)
  async createUser(
    @Param('site') site: string,
    @Body() body: unknown,
    @OperatorActor() actor: string,
  ): Promise<Record<string, unknown>> {
    const parsed = createUserBody.safeParse(body ?? {});
    if (!parsed.success) throw invalid('invalid-user', parsed.error);
    const user = await this.registerUser.create({ ...parsed.data, siteNumber: site }, actor).catch(toHttp);
    return { user };
  }

  @Post('sites/:site/grants')
  @HttpCode(200)
  async grant(
    @Param('site') site: string,
    @Body() body: unknown,
    @OperatorActor() actor: string,
  ): Promise<Record<string, unknown>> {
    const parsed = grantBody.safeParse(body ?? {});
    if (!parsed.success) throw invalid('invalid-user', parsed.error);
    const granted = await this.registerUser
      .grant(parsed.data.email, site, parsed.data.role, actor)
      .catch(toHttp);
    return { grant: { ...granted, siteNumber: site, role: parsed.data.role } };
  }
}
