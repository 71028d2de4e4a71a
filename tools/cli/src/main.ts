import { Command, CommanderError } from 'commander';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, stackEnv } from '@cloud-connect/testing';
import { operatorTokenFile, serviceStatuses, startServices, stopServices } from './local-services';
import { registerAuditCommands } from './audit-commands';
import { registerEmrCommands } from './emr-commands';
import { registerSchedulerCommands } from './scheduler-commands';
import { registerChartCommands } from './chart-commands';
import { registerOAuthCommands } from './oauth-commands';
import { CliError, printJson, progress } from './output';
import { registerNotificationCommands } from './notification-commands';
import { registerSekCommands } from './sek-commands';
import { registerIntegrationCommands } from './integration-commands';
import { registerSiteCommands } from './site-commands';
import { registerUserCommands } from './user-commands';
import { registerAuthCommands } from './auth-commands';
import { registerServiceKeyCommands } from './service-key-commands';

const run = promisify(execFile);
const STACK_SCRIPT = join(REPO_ROOT, 'deploy', 'local', 'stack.sh');

async function stackScript(action: 'up' | 'down' | 'status'): Promise<unknown> {
  const { stdout } = await run('bash', [STACK_SCRIPT, action], {
    env: process.env,
    timeout: 15 * 60 * 1000,
    maxBuffer: 8 * 1024 * 1024,
  });
  if (action !== 'status') return null;
  return JSON.parse(stdout) as unknown;
}

export function buildProgram(): Command {
  const program = new Command('cloud-connect')
    .description('Cloud Connect admin CLI: prints JSON on stdout')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  const stack = program
    .command('stack')
    .description('the local stack (Postgres, Kafka, Vault, SMTP) and the five services');
  stack
    .command('up')
    .description('install what is missing, start everything, wait until ready')
    .action(async () => {
      progress('starting the local stack (first run downloads and installs; later runs take seconds)');
      await stackScript('up');
      progress('starting the five services');
      await startServices(stackEnv());
      printJson({
        stack: await stackScript('status'),
        services: await serviceStatuses(),
        operatorTokenFile: operatorTokenFile(),
      });
    });
  stack
    .command('down')
    .description('stop the services and the stack this CLI started')
    .action(async () => {
      await stopServices();
      await stackScript('down');
      printJson({ stopped: true });
    });
  stack
    .command('status')
    .description('what runs, where, and whether it is ready')
    .action(async () => {
      printJson({ stack: await stackScript('status'), services: await serviceStatuses() });
    });

  registerAuthCommands(program);
  registerSiteCommands(program);
  registerUserCommands(program);
  registerOAuthCommands(program);
  registerSekCommands(program);
  registerAuditCommands(program);
  registerNotificationCommands(program, () =>
    (process.env['KAFKA_BROKERS'] ?? stackEnv().KAFKA_BROKERS).split(','),
  );
  registerIntegrationCommands(program);
  registerEmrCommands(program);
  registerSchedulerCommands(program);
  registerChartCommands(program);
  registerServiceKeyCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; bad arguments exit 2 after commander printed the usage.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CliError) {
      process.stderr.write(`cloud-connect: ${error.message}\n`);
      printJson({ error: { code: error.code, message: error.message, details: error.details } });
      if (error.exitCode === 2)
        process.stderr.write(program.commands.find((c) => c.name() === 'site')?.helpInformation() ?? '');
      return error.exitCode;
    }
    process.stderr.write(`cloud-connect: ${(error as Error).message}\n`);
    printJson({ error: { code: 'failed', message: (error as Error).message } });
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
