import type { Logger } from '@cloud-connect/observability';
import { LOGGER } from '@cloud-connect/service-kit';
import {
  type CanActivate,
  type ExecutionContext,
  HttpException,
  Inject,
  Injectable,
  UseGuards,
} from '@nestjs/common';
import { OperatorCredentials } from './operator-credentials';

export interface OperatorRequest {
  headers: Record<string, string | string[] | undefined>;
  operator?: string;
}

function refused(message: string): HttpException {
  const error = new HttpException({ statusCode: 401, error: 'operator_credential_required', message }, 401);
  Object.assign(error, { challenge: 'Bearer realm="cloud-connect-operator"' });
  return error;
}

/**
 * Operator routes accept only an operator credential (`Authorization: Bearer ccop_…`): a site
 * admin's access token, a service token or nothing is refused with 401, and the refusal is logged
 * (never the presented value).
 */
@Injectable()
export class OperatorGuard implements CanActivate {
  constructor(
    private readonly credentials: OperatorCredentials,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<OperatorRequest & { url?: string; method?: string }>();
    const header = request.headers['authorization'];
    const value = typeof header === 'string' ? header : '';
    const token = value.startsWith('Bearer ') ? value.slice(7).trim() : '';
    const name = token.length > 0 && this.credentials.configured ? this.credentials.verify(token) : null;
    if (name === null) {
      this.logger.warn(
        { method: request.method, route: request.url?.split('?')[0], presented: token.length > 0 },
        'operator route refused',
      );
      throw refused(
        this.credentials.configured
          ? 'this action needs an operator credential (cloud-connect login --operator)'
          : 'no operator credential is configured on this service (OPERATOR_TOKENS_SHA256)',
      );
    }
    request.operator = name;
    return true;
  }
}

/** The route is for operators only: an operator credential is required (OperatorGuard). */
export const AllowOperators = (): ClassDecorator & MethodDecorator => UseGuards(OperatorGuard);
