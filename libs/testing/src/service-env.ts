import type { StackEnv } from './stack';
import type { ServiceName } from './service-process';

/** The environment a service needs against the local stack (root Vault token: tests only). */
export function serviceEnvFor(
  name: ServiceName,
  env: StackEnv,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: env.DATABASE_URL,
    KAFKA_BROKERS: env.KAFKA_BROKERS,
    VAULT_ADDR: env.VAULT_ADDR,
    VAULT_TOKEN: env.VAULT_TOKEN,
    SMTP_HOST: env.SMTP_HOST,
    SMTP_PORT: env.SMTP_PORT,
    KAFKA_CLIENT_ID: `test-${name}`,
    SHUTDOWN_GRACE_MS: '20000',
    ...overrides,
  };
}
