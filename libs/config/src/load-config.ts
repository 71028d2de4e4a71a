import { z } from 'zod';

/** Thrown when the environment does not satisfy a service's config schema. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses `env` against `schema` and returns the typed config, or throws a ConfigError whose
 * problems name every missing or invalid variable (all of them, not the first). Values are never
 * echoed: a bad secret must not end up in a log line.
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.map(String).join('.') || '(environment)';
    const present = issue.path.length > 0 && env[String(issue.path[0])] !== undefined;
    if (present) return `${name} is invalid (${issue.message})`;
    return issue.code === 'custom'
      ? `${name} is not set (${issue.message})`
      : `${name} is required but not set`;
  });
  throw new ConfigError([...new Set(problems)]);
}

/**
 * Loads config for a process entry point; on failure prints ONE line naming the variables and
 * exits non-zero, before anything else (Nest, Kafka, Postgres) is started.
 */
export function loadConfigOrExit<S extends z.ZodType>(
  serviceName: string,
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.output<S> {
  try {
    return loadConfig(schema, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${serviceName}: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
