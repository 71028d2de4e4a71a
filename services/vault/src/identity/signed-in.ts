import type { AdminPrincipal } from '@cloud-connect/auth';
import { createParamDecorator, type ExecutionContext, Injectable, type PipeTransform } from '@nestjs/common';
import { AdminSessions } from './sessions';

/** The person calling a route outside a site, from their bearer token and its open session. */
export interface SignedInCall {
  principal: AdminPrincipal;
  /** The client address as the HTTP layer saw it (after trusted proxies), as `@Ip()` gives it. */
  sourceAddress: string;
}

interface BearerRequest {
  authorization: string | undefined;
  sourceAddress: string;
}

const bearerRequest = createParamDecorator((_data: unknown, ctx: ExecutionContext): BearerRequest => {
  const request = ctx.switchToHttp().getRequest<{ headers: { authorization?: string }; ip: string }>();
  return { authorization: request.headers.authorization, sourceAddress: request.ip };
});

/** Checks the bearer token and that its session is still open (401 otherwise). */
@Injectable()
export class SignedInPipe implements PipeTransform<BearerRequest, Promise<SignedInCall>> {
  constructor(private readonly sessions: AdminSessions) {}

  async transform({ authorization, sourceAddress }: BearerRequest): Promise<SignedInCall> {
    return { principal: await this.sessions.bearer(authorization), sourceAddress };
  }
}

/**
 * `@SignedIn() call: SignedInCall`: the signed-in person of a route that is public to the guard
 * (`@Public`) because it checks the bearer token and its session itself, before the handler runs.
 */
export const SignedIn = (): ParameterDecorator => bearerRequest(undefined, SignedInPipe);
