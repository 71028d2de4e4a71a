import { readFileSync } from 'node:fs';
import { DataSource, type EntitySchema, type MixedList, type QueryRunner } from 'typeorm';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';

export interface ServiceDataSourceOptions {
  url: string;
  /** The service's own schema: a service never reads another service's tables. */
  schema: string;
  applicationName: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities?: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations?: MixedList<Function | string>;
  poolSize?: number;
  /** TLS to Postgres (DATABASE_SSL_MODE, DATABASE_CA_FILE); absent: as the URL says. */
  tls?: DatabaseTlsSettings;
}

export interface DatabaseTlsSettings {
  mode?: 'disable' | 'verify-full' | undefined;
  /** PEM bundle of the CA(s) trusted for the server's certificate (implies verify-full). */
  caFile?: string | undefined;
}

/**
 * node-pg's `ssl` for the settings: `verify-full` checks the chain (against the CA file, else the
 * public roots and NODE_EXTRA_CA_CERTS) and the host name; undefined leaves it to the URL, whose
 * own `sslmode`/`sslrootcert` node-pg parses (and which then win).
 */
export function databaseSsl(
  tls: DatabaseTlsSettings | undefined,
): false | { rejectUnauthorized: true; ca?: string } | undefined {
  if (!tls || (!tls.mode && !tls.caFile)) return undefined;
  if (tls.mode === 'disable') return false;
  return { rejectUnauthorized: true, ...(tls.caFile ? { ca: readFileSync(tls.caFile, 'utf8') } : {}) };
}

const TLS_FAILURES: [RegExp, string][] = [
  [/ALTNAME|Hostname\/IP does not match/i, "the server's certificate does not name the host of the URL"],
  [
    /SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY_LEAF|unable to get local issuer|self[- ]signed/i,
    "the server's certificate is not signed by a trusted CA (DATABASE_CA_FILE or sslrootcert)",
  ],
  [/CERT_HAS_EXPIRED|CERT_NOT_YET_VALID/i, "the server's certificate is expired or not yet valid"],
  [/does not support SSL/i, 'the server does not accept TLS connections'],
];

/**
 * A Postgres connection error that retrying cannot fix — the server's certificate is not trusted
 * or does not name the host, or the server has no TLS — as one clear sentence (the driver's code,
 * never the URL or a password); undefined for any other error.
 */
export function describeDatabaseTlsError(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const text = `${typeof code === 'string' ? code : ''} ${error instanceof Error ? error.message : ''}`;
  for (const [pattern, sentence] of TLS_FAILURES) {
    if (pattern.test(text))
      return `TLS to Postgres failed: ${sentence}${typeof code === 'string' ? ` (${code})` : ''}`;
  }
  return undefined;
}

const IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;

export function assertIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a safe SQL identifier: ${name}`);
  return name;
}

/** The schema a data source (or a migration's query runner) is bound to, checked as an identifier. */
export function schemaOf(source: DataSource | QueryRunner): string {
  const dataSource = 'connection' in source ? source.connection : source;
  return assertIdentifier(String((dataSource.options as PostgresConnectionOptions).schema));
}

/** A TypeORM data source bound to one schema. Never `synchronize`: schema changes are migrations. */
export function createServiceDataSource(options: ServiceDataSourceOptions): DataSource {
  assertIdentifier(options.schema);
  const ssl = databaseSsl(options.tls);
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities ?? [],
    migrations: options.migrations ?? [],
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: false,
    ...(ssl === undefined ? {} : { ssl }),
    extra: {
      max: options.poolSize ?? 10,
      application_name: options.applicationName,
      // Time to get a connection from the pool (or open one). Short enough that a dead database
      // fails requests quickly (refused connections fail at once anyway), long enough for bursts.
      connectionTimeoutMillis: 10000,
      // Fail fast rather than hang when Postgres is gone; readiness reports it.
      query_timeout: 30000,
    },
  });
}

/**
 * Creates the schema if needed and runs pending migrations under an advisory lock, so that
 * several replicas (or the CLI and a service) starting together migrate once.
 */
export async function migrateSchema(dataSource: DataSource): Promise<string[]> {
  const schema = schemaOf(dataSource);
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(`SELECT pg_advisory_lock(hashtext('migrate:' || $1))`, [schema]);
    await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const ran = await dataSource.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await runner
      .query(`SELECT pg_advisory_unlock(hashtext('migrate:' || $1))`, [schema])
      .catch(() => undefined);
    await runner.release();
  }
}

const ROLE = /^[a-z_][a-z0-9_]{0,62}$/;

/** The login role of a `postgres://role:password@host/db` URL (never the password). */
export function roleOfUrl(url: string): string {
  return decodeURIComponent(new URL(url).username);
}

/**
 * Gives a service's runtime role exactly what it needs in its schema, run by the schema's owner
 * (the migration role) after the migrations: USAGE on the schema, SELECT/INSERT/UPDATE/DELETE on
 * its tables, its sequences; on `appendOnlyTables` only SELECT and INSERT (no UPDATE, DELETE,
 * TRUNCATE). No CREATE, no TRUNCATE, no REFERENCES/TRIGGER anywhere, nothing in other schemas.
 * Idempotent (run at every start, in one transaction).
 */
export async function grantServiceRole(
  owner: DataSource,
  role: string,
  appendOnlyTables: readonly string[] = [],
): Promise<void> {
  if (!ROLE.test(role)) throw new Error(`not a safe role name: ${role}`);
  const schema = schemaOf(owner);
  await owner.transaction(async (manager) => {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('migrate:' || $1))`, [schema]);
    await manager.query(`REVOKE ALL ON SCHEMA "${schema}" FROM "${role}"`);
    await manager.query(`GRANT USAGE ON SCHEMA "${schema}" TO "${role}"`);
    await manager.query(`REVOKE ALL ON ALL TABLES IN SCHEMA "${schema}" FROM "${role}"`);
    await manager.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "${schema}" TO "${role}"`,
    );
    await manager.query(`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "${schema}" TO "${role}"`);
    for (const table of appendOnlyTables) {
      assertIdentifier(table);
      await manager.query(`REVOKE UPDATE, DELETE ON "${schema}"."${table}" FROM "${role}"`);
    }
  });
}

/** Cheap liveness probe of the pool, bounded in time. */
export async function pingDatabase(dataSource: DataSource, timeoutMs = 2000): Promise<boolean> {
  if (!dataSource.isInitialized) return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
    });
    await Promise.race([dataSource.query('SELECT 1'), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Postgres unreachable, restarting, shutting down or out of connections: the caller should answer
 * 503 with Retry-After (the client may retry), not 500. SQLSTATE classes 08 (connection), 57P
 * (operator intervention) and 53 (insufficient resources), and the driver's own connection errors.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (
    typeof code === 'string' &&
    (/^(08|57P|53)/.test(code) ||
      ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'].includes(code))
  ) {
    return true;
  }
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED/i.test(
    message,
  );
}
