import { randomUUID } from 'node:crypto';
import type { StackEnv } from './stack';
import type { ServiceName } from './service-process';
import { TEST_OPERATOR_TOKENS_SHA256 } from './operator';

/** Shared by every service a test starts (and by tests that mint service tokens themselves). */
export const TEST_SERVICE_AUTH_SECRET = 'test-service-auth-secret-0123456789abcdef';

/**
 * Consumer groups of this suite (Jest loads this module once per test file): the services a suite
 * starts share them (a restarted service resumes its group's offsets), no other suite on the same
 * broker does, and a new group starts at the suite's start instead of replaying earlier suites.
 */
const SUITE_GROUP_PREFIX = `test-${randomUUID().slice(0, 8)}.`;
const SUITE_STARTED_AT = Date.now();

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
    KAFKA_GROUP_PREFIX: SUITE_GROUP_PREFIX,
    KAFKA_GROUP_START_AT: String(SUITE_STARTED_AT),
    SERVICE_AUTH_SECRET: TEST_SERVICE_AUTH_SECRET,
    ADMIN_JWKS_URL: 'http://127.0.0.1:3003/.well-known/jwks.json',
    // Required by referral-intake and emr-gateway. A test that encrypts PHI passes its own vault
    // service's URL; this default (the discard port) only lets the others start, and any PHI
    // call then fails as "unreachable" instead of reaching someone else's service on 3003.
    VAULT_SERVICE_URL: 'http://127.0.0.1:9',
    SHUTDOWN_GRACE_MS: '20000',
    // The simulators and receivers of the tests listen on 127.0.0.1 (never allowed in production).
    EGRESS_ALLOW_LOOPBACK: 'true',
    // The vault service's operator API accepts the test operator credential (others ignore it).
    OPERATOR_TOKENS_SHA256: TEST_OPERATOR_TOKENS_SHA256,
    ...overrides,
  };
}
