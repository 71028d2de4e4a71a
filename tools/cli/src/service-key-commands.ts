import type { Command } from 'commander';
import { SERVICE_IDENTITIES, writeServiceKeyFiles } from '@cloud-connect/auth';
import { CliError, printJson } from './output';

/**
 * `cloud-connect service-keys generate --dir DIR`: one Ed25519 signing key per service and the JWK
 * Set of their public keys, for SERVICE_SIGNING_KEY_FILE and SERVICE_PUBLIC_KEYS_FILE (the chart's
 * per-service Secrets and public-key ConfigMap are made from these files; docs/security.md).
 */
export function registerServiceKeyCommands(program: Command): void {
  const keys = program
    .command('service-keys')
    .description('service identities: signing keys and public keys');
  keys
    .command('generate')
    .description('create the missing private keys (mode 600) in DIR and write service-public-keys.json')
    .requiredOption('--dir <dir>', 'directory for <service>.key.pem and service-public-keys.json')
    .option('--services <names>', 'comma-separated services', SERVICE_IDENTITIES.join(','))
    .action((options: { dir: string; services: string }) => {
      const services = options.services.split(',').map((name) => name.trim());
      const bad = services.find((name) => !/^[a-z][a-z0-9-]*$/.test(name));
      if (bad !== undefined) throw new CliError('invalid-argument', `not a service name: ${bad}`, 2);
      printJson(writeServiceKeyFiles(options.dir, services));
    });
}
