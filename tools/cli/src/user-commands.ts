import type { Command } from 'commander';
import { Option } from 'commander';
import { createInterface } from 'node:readline';
import {
  IdentityError,
  RegisterUser,
  registerUserInput,
} from '../../../services/vault/src/identity/register-user';
import { CliError, printJson } from './output';
import { operator, withVaultSchema } from './site-commands';

/** The password comes from standard input (piped, or typed at a prompt that does not echo); never from argv. */
async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    let text = '';
    for await (const chunk of process.stdin) text += String(chunk);
    return text.replace(/\r?\n$/, '');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const writeOutput = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput.bind(rl);
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
    writeOutput(s.startsWith('Password') ? s : '');
  };
  const answer = await new Promise<string>((resolve) => rl.question('Password: ', resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

function asCliError(error: unknown): never {
  if (error instanceof IdentityError) {
    throw new CliError(error.code, error.message, error.code === 'invalid-user' ? 2 : 1, error.details);
  }
  throw error;
}

export function registerUserCommands(program: Command, databaseUrl: () => string): void {
  const user = program.command('user').description('people who sign in to administer sites');
  user
    .command('create')
    .description('create a person with a role at a site; the password is read from stdin or a prompt')
    .requiredOption('--email <email>', 'their e-mail (they sign in with it)')
    .requiredOption('--site <n>', 'site number')
    .addOption(new Option('--role <role>', 'role at the site').choices(['admin', 'member']).default('admin'))
    .action(async (options: { email: string; site: string; role: 'admin' | 'member' }) => {
      const password = await readPassword();
      const input = { email: options.email, password, siteNumber: options.site, role: options.role };
      const checked = registerUserInput.safeParse(input);
      if (!checked.success) {
        const details = checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
        throw new CliError('invalid-user', `invalid user: ${details.join('; ')}`, 2, details);
      }
      const created = await withVaultSchema(databaseUrl(), (ds, outbox, registry) =>
        new RegisterUser(ds, outbox, registry).create(input, operator()),
      ).catch(asCliError);
      printJson({ user: created });
    });
  user
    .command('grant')
    .description('give an existing person a role at a site')
    .requiredOption('--email <email>', 'their e-mail')
    .requiredOption('--site <n>', 'site number')
    .addOption(new Option('--role <role>', 'role at the site').choices(['admin', 'member']).default('admin'))
    .action(async (options: { email: string; site: string; role: 'admin' | 'member' }) => {
      const granted = await withVaultSchema(databaseUrl(), (ds, outbox, registry) =>
        new RegisterUser(ds, outbox, registry).grant(options.email, options.site, options.role, operator()),
      ).catch(asCliError);
      printJson({ grant: { ...granted, siteNumber: options.site, role: options.role } });
    });
}
