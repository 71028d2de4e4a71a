import { loadServiceConfig } from './config';
import { buildServer } from './server';

async function main(): Promise<void> {
  const config = loadServiceConfig();
  const app = await buildServer(config);
  const stop = (): void => {
    void app.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await app.listen({ port: config.PORT, host: config.HOST });
}

void main().catch((error: unknown) => {
  process.stderr.write(
    `console: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
