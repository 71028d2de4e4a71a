import { baseServiceEnv, env } from '@cloud-connect/config';
import { PRODUCT_EVENTS } from '@cloud-connect/contracts';
import { createServiceDataSource, migrateSchema, OutboxWriter, schemaOf } from '@cloud-connect/db';
import { EventRegistry } from '@cloud-connect/kafka';
import { z } from 'zod';
import { VAULT_ENTITIES, VAULT_MIGRATIONS } from './database';
import {
  IdentityError,
  RegisterUser,
  registerUserInput,
  type RegisterUserInput,
} from './identity/register-user';
import { RegisterSite, registerSiteInput, SiteError, type RegisterSiteInput } from './sites/register-site';

/** Who the bootstrap's actions are audited as. */
export const BOOTSTRAP_ACTOR = 'operator:bootstrap';

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value && value.trim().length > 0 ? value.trim() : undefined));

/** The Job's environment: the vault service's database, and the first site and its admin. */
export const bootstrapEnv = z.object({
  DATABASE_URL: env.url(['postgres', 'postgresql']),
  DATABASE_SCHEMA: env.identifier().default('vault'),
  DATABASE_SSL_MODE: baseServiceEnv.shape.DATABASE_SSL_MODE,
  DATABASE_CA_FILE: baseServiceEnv.shape.DATABASE_CA_FILE,
  BOOTSTRAP_SITE_NUMBER: z.string().min(1, 'required'),
  BOOTSTRAP_SITE_NAME: z.string().min(1, 'required'),
  BOOTSTRAP_SITE_LOCALE: z.enum(['en', 'fr']).default('en'),
  BOOTSTRAP_SITE_TIMEZONE: z.string().min(1).default('America/Toronto'),
  BOOTSTRAP_ADMIN_EMAIL: z.string().min(1, 'required'),
  BOOTSTRAP_CLINICAL_ADMIN_EMAIL: optionalText,
  BOOTSTRAP_ADMIN_PASSWORD: z.string().min(1, 'required'),
});

type Outcome = 'created' | 'exists';

export interface BootstrapResult {
  site: { siteNumber: string; outcome: Outcome };
  admin: { email: string; outcome: Outcome };
}

export class BootstrapError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BootstrapError';
  }
}

/**
 * Creates what `create` creates; `exists` when it is there already (the domain error's `existsCode`),
 * any other error of that domain as a BootstrapError with its code.
 */
async function createdOrExists<C extends string>(
  domainError: abstract new (...args: never[]) => Error & { code: C },
  existsCode: C,
  create: () => Promise<unknown>,
): Promise<Outcome> {
  try {
    await create();
    return 'created';
  } catch (error) {
    if (!(error instanceof domainError)) throw error;
    if (error.code !== existsCode) throw new BootstrapError(error.code, error.message);
    return 'exists';
  }
}

/**
 * Registers the first site and its first admin through the vault service's own use cases
 * (RegisterSite, RegisterUser): the same checks, `site.registered` event and audit entries as
 * `cloud-connect site create` / `user create`. Run again, it changes nothing: an existing site
 * or user is reported as `exists` and left as it is (a password is never reset here).
 */
export async function bootstrap(source: NodeJS.ProcessEnv): Promise<BootstrapResult> {
  const parsed = bootstrapEnv.safeParse(source);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new BootstrapError('invalid-config', `invalid bootstrap settings: ${details}`);
  }
  const cfg = parsed.data;
  const siteNumber = cfg.BOOTSTRAP_SITE_NUMBER;
  const siteInput: RegisterSiteInput = {
    siteNumber,
    name: cfg.BOOTSTRAP_SITE_NAME,
    adminEmail: cfg.BOOTSTRAP_ADMIN_EMAIL,
    clinicalAdminEmail: cfg.BOOTSTRAP_CLINICAL_ADMIN_EMAIL ?? null,
    locale: cfg.BOOTSTRAP_SITE_LOCALE,
    timezone: cfg.BOOTSTRAP_SITE_TIMEZONE,
  };
  const userInput: RegisterUserInput = {
    email: cfg.BOOTSTRAP_ADMIN_EMAIL,
    password: cfg.BOOTSTRAP_ADMIN_PASSWORD,
    siteNumber,
    role: 'admin',
  };
  // Both checked before anything is written: bad settings leave the database as it was.
  for (const [code, result] of [
    ['invalid-site', registerSiteInput.safeParse(siteInput)],
    ['invalid-user', registerUserInput.safeParse(userInput)],
  ] as const) {
    if (!result.success) {
      const details = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new BootstrapError(code, `invalid bootstrap settings: ${details}`);
    }
  }
  const dataSource = createServiceDataSource({
    url: cfg.DATABASE_URL,
    schema: cfg.DATABASE_SCHEMA,
    applicationName: 'cloud-connect-bootstrap',
    tls: { mode: cfg.DATABASE_SSL_MODE, caFile: cfg.DATABASE_CA_FILE },
    entities: VAULT_ENTITIES,
    migrations: VAULT_MIGRATIONS,
    poolSize: 2,
  });
  await dataSource.initialize();
  try {
    await migrateSchema(dataSource);
    const registry = new EventRegistry(PRODUCT_EVENTS);
    const outbox = new OutboxWriter(registry, schemaOf(dataSource));
    const siteOutcome = await createdOrExists(SiteError, 'site-exists', () =>
      new RegisterSite(dataSource, outbox, registry).execute(siteInput, BOOTSTRAP_ACTOR),
    );
    const adminOutcome = await createdOrExists(IdentityError, 'user-exists', () =>
      new RegisterUser(dataSource, outbox, registry).create(userInput, BOOTSTRAP_ACTOR),
    );
    return {
      site: { siteNumber, outcome: siteOutcome },
      admin: { email: cfg.BOOTSTRAP_ADMIN_EMAIL, outcome: adminOutcome },
    };
  } finally {
    await dataSource.destroy();
  }
}

/** `node dist/services/vault/src/bootstrap.js`: prints the result as JSON; exit 1 on failure. */
if (require.main === module) {
  bootstrap(process.env).then(
    (result) => {
      process.stdout.write(`${JSON.stringify({ bootstrap: result })}\n`);
    },
    (error: unknown) => {
      const code = error instanceof BootstrapError ? error.code : 'failed';
      process.stdout.write(`${JSON.stringify({ error: { code, message: (error as Error).message } })}\n`);
      process.exitCode = 1;
    },
  );
}
