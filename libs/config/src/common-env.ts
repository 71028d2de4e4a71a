import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';

/** Reusable env field parsers. Mechanisms only: which variables a service needs is its own call. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback),
  url: (protocols: string[]) =>
    z.string().refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      },
      `must be a URL with protocol ${protocols.join(' or ')}`,
    ),
  list: () =>
    z
      .string()
      .min(1)
      .transform((value) =>
        value
          .split(',')
          .map((part) => part.trim())
          .filter((part) => part.length > 0),
      )
      .refine((parts) => parts.length > 0, 'must list at least one value'),
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(fallback ? 'true' : 'false')
      .transform((value) => value === 'true' || value === '1'),
  identifier: () => z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a lowercase SQL identifier'),
  secret: (minLength: number) => z.string().min(minLength, `must be at least ${minLength} characters`),
  positiveInt: (fallback: number) => z.coerce.number().int().positive().default(fallback),
  /** Comma-separated IP addresses or CIDR ranges (e.g. `10.0.0.0/8, 192.168.1.7`); empty = none. */
  addressRanges: () =>
    z
      .string()
      .default('')
      .transform((value) =>
        value
          .split(',')
          .map((part) => part.trim())
          .filter((part) => part.length > 0),
      )
      .refine(
        (parts) => parts.every(isAddressRange),
        'must be IP addresses or CIDR ranges (address/prefix), comma-separated',
      ),
};

function isAddressRange(value: string): boolean {
  const [address = '', prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

export const logLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info');

/**
 * HTTPS for a process's own HTTP server: PEM files of its certificate (chain) and private key,
 * both or neither (neither: plain HTTP). Checked by `requireServerTls`.
 */
export const serverTlsEnv = z.object({
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
});

/** The PEM contents of TLS_CERT_FILE and TLS_KEY_FILE, read at start-up; undefined when HTTPS is off. */
export function readServerTls(cfg: {
  TLS_CERT_FILE?: string | undefined;
  TLS_KEY_FILE?: string | undefined;
}): { cert: Buffer; key: Buffer } | undefined {
  if (!cfg.TLS_CERT_FILE || !cfg.TLS_KEY_FILE) return undefined;
  return { cert: readFileSync(cfg.TLS_CERT_FILE), key: readFileSync(cfg.TLS_KEY_FILE) };
}

/**
 * Cross-field rule: TLS_CERT_FILE and TLS_KEY_FILE come together, each is a readable PEM file,
 * and the key is the certificate's. The messages name the variable, never a file's content.
 */
export function requireServerTls(
  cfg: { TLS_CERT_FILE?: string | undefined; TLS_KEY_FILE?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  const fail = (path: 'TLS_CERT_FILE' | 'TLS_KEY_FILE', message: string): void =>
    ctx.addIssue({ code: 'custom', path: [path], message });
  if (!cfg.TLS_CERT_FILE && !cfg.TLS_KEY_FILE) return;
  if (!cfg.TLS_CERT_FILE) return fail('TLS_CERT_FILE', 'required when TLS_KEY_FILE is set');
  if (!cfg.TLS_KEY_FILE) return fail('TLS_KEY_FILE', 'required when TLS_CERT_FILE is set');
  let certificate: X509Certificate | undefined;
  try {
    certificate = new X509Certificate(readFileSync(cfg.TLS_CERT_FILE));
  } catch (error) {
    fail('TLS_CERT_FILE', pemProblem(error, 'a PEM certificate'));
  }
  let key: ReturnType<typeof createPrivateKey> | undefined;
  try {
    key = createPrivateKey(readFileSync(cfg.TLS_KEY_FILE));
  } catch (error) {
    fail('TLS_KEY_FILE', pemProblem(error, 'a PEM private key'));
  }
  if (certificate && key && !certificate.checkPrivateKey(key))
    fail('TLS_KEY_FILE', "is not the private key of TLS_CERT_FILE's certificate");
}

function pemProblem(error: unknown, what: string): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'file not readable by the service';
  return `the file is not ${what}`;
}

/** Variables every service reads. Services extend this with their own. */
export const baseServiceEnv = z.object({
  NODE_ENV: z.enum(['production', 'development', 'test']).default('production'),
  LOG_LEVEL: logLevelSchema,
  DATABASE_URL: env.url(['postgres', 'postgresql']),
  DATABASE_POOL_SIZE: env.positiveInt(10),
  /**
   * The schema owner (migration role). When set, migrations run with it and DATABASE_URL is the
   * service's own role, granted rights on its schema only; when unset, DATABASE_URL migrates.
   */
  DATABASE_MIGRATION_URL: env.url(['postgres', 'postgresql']).optional(),
  /**
   * TLS to Postgres for both URLs: `verify-full` (the certificate chain and the URL's host name
   * checked) or `disable`. DATABASE_CA_FILE is a PEM bundle of the CA(s) to trust instead of the
   * public roots (implies verify-full). Unset: as the URL says (`sslmode`, `sslrootcert`; those win).
   */
  DATABASE_SSL_MODE: z.enum(['disable', 'verify-full']).optional(),
  DATABASE_CA_FILE: z.string().min(1).optional(),
  KAFKA_BROKERS: env.list(),
  KAFKA_CLIENT_ID: z.string().min(1).optional(),
  /** SASL/SCRAM to the brokers: the service's own user; the password is read from the file. */
  KAFKA_SASL_MECHANISM: z.enum(['scram-sha-512', 'scram-sha-256']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD_FILE: z.string().min(1).optional(),
  /** TLS to the brokers (certificates checked); a CA bundle file for a private CA (implies TLS). */
  KAFKA_TLS: env.bool(false),
  KAFKA_TLS_CA_FILE: z.string().min(1).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: env.url(['http', 'https']).optional(),
  /**
   * Keys for service-internal HMACs that two services share (opt-out links between scheduler and
   * notifier, sealed local secrets). No longer an identity: service tokens use the keys below.
   */
  SERVICE_AUTH_SECRET: env.secret(32),
  /** This service's Ed25519 private key (PKCS#8 PEM), inline or as a file (one of the two). */
  SERVICE_SIGNING_KEY: z.string().min(1).optional(),
  SERVICE_SIGNING_KEY_FILE: z.string().min(1).optional(),
  /** The `kid` it signs with: the service's name (default) or `<service>.<suffix>` during a rotation. */
  SERVICE_SIGNING_KEY_ID: z.string().min(1).optional(),
  /** The services' public keys, a JWK Set whose `kid`s name the services, inline or as a file. */
  SERVICE_PUBLIC_KEYS: z.string().min(1).optional(),
  SERVICE_PUBLIC_KEYS_FILE: z.string().min(1).optional(),
  /** The vault service's JWKS for admin access tokens (every service but vault). */
  ADMIN_JWKS_URL: env.url(['http', 'https']).optional(),
  SHUTDOWN_GRACE_MS: env.positiveInt(15000),
  ...serverTlsEnv.shape,
  /**
   * Reverse proxies (ingress controller, load balancer) whose `X-Forwarded-For` is believed.
   * Empty (the default): the client address is the TCP peer and the header is ignored.
   */
  TRUSTED_PROXIES: env.addressRanges(),
  /** Replicas of the Kafka topics a service creates at start-up (3-broker clusters: 3). */
  KAFKA_TOPIC_REPLICATION_FACTOR: env.positiveInt(1),
  /** min.insync.replicas of those topics; the broker's default when unset. */
  KAFKA_TOPIC_MIN_INSYNC_REPLICAS: z.coerce.number().int().positive().optional(),
  /**
   * Prepended to every consumer group id. Empty in production (deployed offsets stay with the
   * groups `<service>.<group>`); test suites set one of their own so two suites on one broker
   * never share a group.
   */
  KAFKA_GROUP_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]*\.$/, 'lower-case letters, digits, dots and dashes, ending with a dot')
    .optional(),
  /**
   * With KAFKA_GROUP_PREFIX only: a new group starts at this time (epoch milliseconds) instead of
   * the beginning of its topics, so a suite sees nothing of the suites before it.
   */
  KAFKA_GROUP_START_AT: z.coerce.number().int().positive().optional(),
});

export const vaultClientEnv = z.object({
  VAULT_ADDR: env.url(['http', 'https']),
  VAULT_AUTH_METHOD: z.enum(['token', 'approle', 'kubernetes']).default('token'),
  VAULT_TOKEN: z.string().min(1).optional(),
  VAULT_ROLE_ID: z.string().min(1).optional(),
  VAULT_SECRET_ID: z.string().min(1).optional(),
  VAULT_K8S_ROLE: z.string().min(1).optional(),
  VAULT_K8S_TOKEN_PATH: z.string().default('/var/run/secrets/kubernetes.io/serviceaccount/token'),
});

/**
 * Services that encrypt PHI (referral-intake, emr-gateway) get data keys from the vault service
 * here (`POST /sites/:site/phi/data-keys`, `.../data-keys/unwrap`) and encrypt locally. Required:
 * there is no local fallback.
 */
export const phiServiceEnv = z.object({
  /** Base URL of the vault service, e.g. http://cloud-connect-vault:3003. */
  VAULT_SERVICE_URL: env.url(['http', 'https']),
  /** Timeout of one PHI encrypt/decrypt call to the vault service. */
  PHI_TIMEOUT_MS: env.positiveInt(10000),
  /** An issued data key encrypts records for at most this long... */
  PHI_DATA_KEY_MAX_AGE_MS: env.positiveInt(300000),
  /** ... and at most this many records; then a new one is issued (and audited). */
  PHI_DATA_KEY_MAX_RECORDS: env.positiveInt(10000),
  /** Unwrapped data keys kept in memory for decryption, and for how long. */
  PHI_UNWRAPPED_KEYS_MAX: env.positiveInt(1000),
  PHI_UNWRAPPED_KEY_TTL_MS: env.positiveInt(300000),
});

/** Cross-field rule: the chosen Vault auth method has the variables it needs. */
export function requireVaultAuth(cfg: z.infer<typeof vaultClientEnv>, ctx: z.RefinementCtx): void {
  const need: Record<string, (keyof typeof cfg)[]> = {
    token: ['VAULT_TOKEN'],
    approle: ['VAULT_ROLE_ID', 'VAULT_SECRET_ID'],
    kubernetes: ['VAULT_K8S_ROLE'],
  };
  for (const key of need[cfg.VAULT_AUTH_METHOD] ?? []) {
    if (!cfg[key]) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `required when VAULT_AUTH_METHOD=${cfg.VAULT_AUTH_METHOD}`,
      });
    }
  }
}

/** A service's env schema: the base variables, its port and schema defaults, and its own extras. */
export function serviceEnvSchema<E extends z.ZodRawShape>(
  defaults: { port: number; schema: string },
  extra: E,
) {
  return baseServiceEnv
    .extend({
      PORT: env.port(defaults.port),
      DATABASE_SCHEMA: env.identifier().default(defaults.schema),
      ...extra,
    })
    .superRefine((cfg, ctx) => requireTlsFiles(cfg as z.output<typeof baseServiceEnv>, ctx));
}

/** The TLS rules every service shares: its server's certificate and key, its Postgres CA. */
function requireTlsFiles(cfg: z.output<typeof baseServiceEnv>, ctx: z.RefinementCtx): void {
  requireServerTls(cfg, ctx);
  if (cfg.DATABASE_SSL_MODE === 'disable' && cfg.DATABASE_CA_FILE)
    ctx.addIssue({
      code: 'custom',
      path: ['DATABASE_CA_FILE'],
      message: 'set while DATABASE_SSL_MODE=disable (a CA needs verify-full)',
    });
}

/**
 * Outbound calls to addresses site admins choose (EMR endpoints, copy request URLs, JWKS URLs)
 * are https to public addresses only. Development and test stacks, whose simulators listen on
 * 127.0.0.1, opt in to loopback (http or https) here; refused when NODE_ENV=production.
 */
export const egressEnv = z.object({
  EGRESS_ALLOW_LOOPBACK: env.bool(false),
});

export function refuseLoopbackEgressInProduction(
  cfg: { NODE_ENV?: string | undefined; EGRESS_ALLOW_LOOPBACK: boolean },
  ctx: z.RefinementCtx,
): void {
  if (cfg.NODE_ENV === 'production' && cfg.EGRESS_ALLOW_LOOPBACK)
    ctx.addIssue({
      code: 'custom',
      path: ['EGRESS_ALLOW_LOOPBACK'],
      message: 'must not be true when NODE_ENV=production',
    });
}

/** serviceEnvSchema of a service that reads its own secrets from Vault: the Vault client variables, checked. */
export function vaultServiceEnvSchema<E extends z.ZodRawShape>(
  defaults: { port: number; schema: string },
  extra: E,
) {
  return serviceEnvSchema(defaults, { ...vaultClientEnv.shape, ...extra }).superRefine((cfg, ctx) =>
    requireVaultAuth(cfg as z.output<typeof vaultClientEnv>, ctx),
  );
}

/**
 * serviceEnvSchema of a service that encrypts PHI with data keys from the vault service, reads its
 * own secrets from Vault and calls addresses site admins choose (referral-intake, emr-gateway).
 */
export function phiServiceEnvSchema<E extends z.ZodRawShape>(
  defaults: { port: number; schema: string },
  extra: E,
) {
  return vaultServiceEnvSchema(defaults, {
    ...phiServiceEnv.shape,
    ...egressEnv.shape,
    ...extra,
  }).superRefine((cfg, ctx) =>
    refuseLoopbackEgressInProduction(
      cfg as z.output<typeof baseServiceEnv> & z.output<typeof egressEnv>,
      ctx,
    ),
  );
}
