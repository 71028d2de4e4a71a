import { createHash, createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import type { StackEnv } from './stack';
import type { ServiceName } from './service-process';
import { TEST_OPERATOR_TOKENS_SHA256 } from './operator';

/** Shared by every service a test starts (opt-out links, sealed local secrets; not an identity). */
export const TEST_SERVICE_AUTH_SECRET = 'test-service-auth-secret-0123456789abcdef';

/**
 * Consumer groups of this suite (Jest loads this module once per test file): the services a suite
 * starts share them (a restarted service resumes its group's offsets), no other suite on the same
 * broker does, and a new group starts at the suite's start instead of replaying earlier suites.
 * A service's prefix starts with its own name (`vault.test-1a2b3c4d.`), inside the consumer groups
 * its Kafka user may use (`<service>.*`).
 */
const SUITE_GROUP_TAG = `test-${randomUUID().slice(0, 8)}.`;
const SUITE_STARTED_AT = Date.now();
const TEST_SERVICES: ServiceName[] = ['vault', 'emr-gateway', 'referral-intake', 'scheduler', 'notifier'];

/**
 * A service's test signing key: Ed25519 from a fixed seed (tests only), so a test and the services
 * it starts agree without files. PKCS#8 PEM, as SERVICE_SIGNING_KEY takes it.
 */
export function testServiceSigningKey(service: string): string {
  const seed = createHash('sha256').update(`cloud-connect test service key/${service}`).digest();
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
    .export({ format: 'pem', type: 'pkcs8' })
    .toString();
}

/**
 * A service's test key configuration: what `new ServiceTokenIssuer(service, …)` takes for a test
 * minting that service's tokens, and what a unit test's service config needs.
 */
export function testServiceKeys(service: string): {
  SERVICE_SIGNING_KEY: string;
  SERVICE_PUBLIC_KEYS: string;
} {
  return {
    SERVICE_SIGNING_KEY: testServiceSigningKey(service),
    SERVICE_PUBLIC_KEYS: testServicePublicKeys(),
  };
}

/** The JWK Set of the five services' test public keys (SERVICE_PUBLIC_KEYS). */
export function testServicePublicKeys(): string {
  const keys = TEST_SERVICES.map((service) => {
    const jwk = createPublicKey(testServiceSigningKey(service)).export({ format: 'jwk' });
    return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid: service, alg: 'EdDSA', use: 'sig' };
  });
  return JSON.stringify({ keys });
}

/**
 * How a service reaches the local broker: as its own SCRAM user (`cc-<service>`) on the SASL
 * listener, under its ACLs, when the stack has one; the super-user PLAINTEXT listener only on a
 * stack without it.
 */
export function serviceKafkaEnv(name: string, env: StackEnv): Record<string, string> {
  const passwordFile = env.kafkaSasl?.passwordFiles[name];
  if (!env.kafkaSasl || !passwordFile) return { KAFKA_BROKERS: env.KAFKA_BROKERS };
  return {
    KAFKA_BROKERS: env.kafkaSasl.brokers,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: `cc-${name}`,
    KAFKA_SASL_PASSWORD_FILE: passwordFile,
  };
}

/** The environment a service needs against the local stack (root Vault token: tests only). */
export function serviceEnvFor(
  name: ServiceName,
  env: StackEnv,
  overrides: Record<string, string> = {},
): Record<string, string> {
  // The service's own role when the stack has one; the owner (DATABASE_URL) runs the migrations.
  const ownRole = env.serviceDatabaseUrls?.[name];
  return {
    DATABASE_URL: ownRole ?? env.DATABASE_URL,
    ...(ownRole ? { DATABASE_MIGRATION_URL: env.DATABASE_URL } : {}),
    ...serviceKafkaEnv(name, env),
    VAULT_ADDR: env.VAULT_ADDR,
    VAULT_TOKEN: env.VAULT_TOKEN,
    SMTP_HOST: env.SMTP_HOST,
    SMTP_PORT: env.SMTP_PORT,
    KAFKA_CLIENT_ID: `test-${name}`,
    KAFKA_GROUP_PREFIX: `${name}.${SUITE_GROUP_TAG}`,
    KAFKA_GROUP_START_AT: String(SUITE_STARTED_AT),
    SERVICE_AUTH_SECRET: TEST_SERVICE_AUTH_SECRET,
    SERVICE_SIGNING_KEY: testServiceSigningKey(name),
    SERVICE_PUBLIC_KEYS: testServicePublicKeys(),
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
