import {
  Body,
  Controller,
  createParamDecorator,
  type ExecutionContext,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import { z } from 'zod';
import { AuditTrail, type SiteVerifyResult } from '../audit/audit-trail';
import { IdentityError, RegisterUser } from '../identity/register-user';
import { AdminSigningKeys } from '../identity/signing-keys';
import { RegisterSite, SiteError, type RegisterSiteInput } from '../sites/register-site';
import { siteView } from '../sites/site.entity';
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
export const auditVerifyQuery = z
  .object({
    site: z
      .string()
      .regex(/^[1-9][0-9]{0,9}$/, 'a site number is 1 to 10 digits')
      .optional(),
  })
  .strict();

export const grantBody = z.object({
  email: z.string().min(1),
  role: z.enum(['admin', 'member']).default('admin'),
});

/** A body that does not parse: the same validation error as the use case's own (problem+json). */
function invalidUser(error: z.ZodError): IdentityError {
  const details = error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  return new IdentityError('invalid-user', `invalid request: ${details.join('; ')}`, details);
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
    private readonly audit: AuditTrail,
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

  /**
   * Recomputes the audit chain of one site (`?site=`) or of every site (those with entries and
   * those with an anchor) and compares each with its anchor in Vault. `ok` is false when any
   * chain is broken; each broken site names its first bad sequence number.
   */
  @Get('audit/verify')
  async verifyAudit(@Query() query: unknown): Promise<{ ok: boolean; sites: SiteVerifyResult[] }> {
    const parsed = auditVerifyQuery.safeParse(query ?? {});
    if (!parsed.success) {
      throw new SiteError(
        'invalid-site',
        `invalid request: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
      );
    }
    const sites = parsed.data.site
      ? [await this.audit.verify(parsed.data.site)]
      : await this.audit.verifyAll();
    return { ok: sites.every((s) => s.ok), sites };
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
    const site = await this.registerSite.execute(input, actor);
    return { site: siteView(site) };
  }

  @Post('sites/:site/users')
  @HttpCode(201)
  async createUser(
    @Param('site') site: string,
    @Body() body: unknown,
    @OperatorActor() actor: string,
  ): Promise<Record<string, unknown>> {
    const parsed = createUserBody.safeParse(body ?? {});
    if (!parsed.success) throw invalidUser(parsed.error);
    const user = await this.registerUser.create({ ...parsed.data, siteNumber: site }, actor);
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
    if (!parsed.success) throw invalidUser(parsed.error);
    const granted = await this.registerUser.grant(parsed.data.email, site, parsed.data.role, actor);
    return { grant: { ...granted, siteNumber: site, role: parsed.data.role } };
  }
}
