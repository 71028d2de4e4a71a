import { Option, type Command } from 'commander';
import { api, siteNumber } from './api';
import { printJson } from './output';
import { readSecret } from './secrets';

interface UserOptions {
  email: string;
  site: string;
  role: 'admin' | 'member';
  passwordFile?: string;
}

/** `user create|grant` (operator credential): people who sign in to administer sites. */
export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('people who sign in to administer sites (operator)');
  user
    .command('create')
    .description(
      "create a person with a role at a site (e.g. a site's first admin); the password is read " +
        'from --password-file, piped stdin or a prompt, never from argv',
    )
    .requiredOption('--email <email>', 'their e-mail (they sign in with it)')
    .requiredOption('--site <n>', 'site number')
    .addOption(new Option('--role <role>', 'role at the site').choices(['admin', 'member']).default('admin'))
    .option('--password-file <path>', 'read their password from the first line of this file')
    .action(async (o: UserOptions) => {
      const password = await readSecret('Password: ', o.passwordFile);
      const { body } = await api('vault', 'operator', 'POST', `/operator/sites/${siteNumber(o.site)}/users`, {
        email: o.email,
        password,
        role: o.role,
      });
      printJson(body);
    });
  user
    .command('grant')
    .description('give an existing person a role at a site')
    .requiredOption('--email <email>', 'their e-mail')
    .requiredOption('--site <n>', 'site number')
    .addOption(new Option('--role <role>', 'role at the site').choices(['admin', 'member']).default('admin'))
    .action(async (o: UserOptions) => {
      const { body } = await api(
        'vault',
        'operator',
        'POST',
        `/operator/sites/${siteNumber(o.site)}/grants`,
        {
          email: o.email,
          role: o.role,
        },
      );
      printJson(body);
    });
}
