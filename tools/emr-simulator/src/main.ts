// The EMR simulator as a program: `node <dist>/tools/emr-simulator/src/main.js --port 4010`.
// Seeds one demo instance per EMR type and prints their base URLs and credentials as JSON.
import { startEmrSimulator } from './server';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
  const port = Number(argument('port') ?? process.env['EMR_SIMULATOR_PORT'] ?? '4010');
  const host = argument('host') ?? '127.0.0.1';
  const simulator = await startEmrSimulator({ port, host, seedDefaults: true });
  const response = await fetch(`${simulator.url}/_sim/instances`);
  process.stdout.write(
    `${JSON.stringify({ url: simulator.url, instances: await response.json() }, null, 2)}\n`,
  );
  const stop = (): void => {
    void simulator.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main().catch((error: unknown) => {
  process.stderr.write(`emr-simulator: ${(error as Error).message}\n`);
  process.exit(1);
});
