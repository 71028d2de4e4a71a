import { Option, type Command } from 'commander';
import { adminCall, siteNumber } from './api';
import { CliError, printJson, progress, readJsonInput } from './output';
import { siteRead } from './site-reads';

/**
 * `cloud-connect emr connect|status|reconfigure|disconnect|settings|sync --site N`: the EMR
 * gateway's admin API (EMR_GATEWAY_URL, default http://127.0.0.1:3002) as the signed-in site
 * admin. Credentials are read from a JSON file or stdin, never from arguments (they would land
 * in shell history).
 */
export const call = (method: string, path: string, body?: unknown): Promise<unknown> =>
  adminCall('emr-gateway', method, path, body);

export const sitePath = (site: string, rest = ''): string => `/admin/sites/${siteNumber(site)}/emr${rest}`;

export function registerEmrCommands(program: Command): void {
  const emr = program.command('emr').description("a site's EMR connection, settings and sync (emr-gateway)");
  const connect = (name: string, description: string): void => {
    emr
      .command(name)
      .description(description)
      .requiredOption('--site <n>', 'site number')
      .option(
        '--credentials <file>',
        'JSON file with {"type": "ps-suite"|"med-access"|"accuro"|"oscar-pro"|"chr"|"fhir-r4", ...} (default: stdin)',
      )
      .action(async (options: { site: string; credentials?: string }) => {
        printJson(await call('PUT', sitePath(options.site), readJsonInput(options.credentials)));
      });
  };
  connect('connect', 'connect the EMR: authenticates now and says plainly what failed');
  connect('reconfigure', 're-authenticate or change the EMR (resumes held commands)');
  siteRead(emr, 'status', 'connection, sync status and the command queue', 'emr-gateway', '/emr');
  emr
    .command('disconnect')
    .description('remove the EMR connection and its credentials')
    .requiredOption('--site <n>', 'site number')
    .action(async (options: { site: string }) => {
      await call('DELETE', sitePath(options.site));
      printJson({ disconnected: options.site });
    });
  emr
    .command('settings')
    .description('show the settings, or replace them with --set <file>')
    .requiredOption('--site <n>', 'site number')
    .option('--set <file>', 'JSON file with the settings to save')
    .option('--expected-version <v>', 'refuse if the settings changed since this version')
    .action(async (options: { site: string; set?: string; expectedVersion?: string }) => {
      if (!options.set) return printJson(await call('GET', sitePath(options.site, '/settings')));
      const body = {
        settings: readJsonInput(options.set),
        ...(options.expectedVersion ? { expectedVersion: Number(options.expectedVersion) } : {}),
      };
      printJson(await call('PUT', sitePath(options.site, '/settings'), body));
    });
  emr
    .command('sync')
    .description('sync now: "Sync Recent Appointments", or with --full "Sync Full Schedule"')
    .requiredOption('--site <n>', 'site number')
    .addOption(new Option('--scope <scope>', 'what to sync').choices(['recent', 'full']).default('recent'))
    .option('--full', 'sync the full schedule window (same as --scope full)')
    .option('--wait', 'wait for the sync to finish, with a progress line, and print its status')
    .option('--timeout <seconds>', 'with --wait: give up after this many seconds', '600')
    .action(
      async (options: { site: string; scope: string; full?: boolean; wait?: boolean; timeout: string }) => {
        const scope = options.full ? 'full' : options.scope;
        const requested = Date.now();
        const queued = (await call('POST', sitePath(options.site, '/sync'), { scope })) as Record<
          string,
          unknown
        >;
        if (!options.wait) return printJson(queued);
        printJson(await waitForSync(options.site, requested, Number(options.timeout) * 1000, queued));
      },
    );
  emr
    .command('replay')
    .description('replay a dead-lettered EMR command (operator)')
    .requiredOption('--site <n>', 'site number')
    .requiredOption('--command <id>', 'command id')
    .action(async (options: { site: string; command: string }) =>
      printJson(
        await call('POST', sitePath(options.site, `/commands/${encodeURIComponent(options.command)}/replay`)),
      ),
    );
}

interface SyncView {
  state?: string;
  lastScope?: string | null;
  lastStartedAt?: string | null;
  lastSuccessAt?: string | null;
  lastError?: string | null;
  lastAppointments?: number | null;
}

/** Polls the status until a sync started after the request has finished (a progress line meanwhile). */
async function waitForSync(
  site: string,
  requestedAt: number,
  timeoutMs: number,
  queued: Record<string, unknown>,
): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = (await call('GET', sitePath(site))) as { sync?: SyncView };
    const sync = status.sync ?? {};
    const started = sync.lastStartedAt ? Date.parse(sync.lastStartedAt) : 0;
    const seconds = Math.round((Date.now() - requestedAt) / 1000);
    if (started >= requestedAt - 1000 && sync.state === 'idle') {
      if (sync.lastError) throw new CliError('sync-failed', sync.lastError);
      return { ...queued, sync };
    }
    progress(
      started >= requestedAt - 1000
        ? `syncing (${sync.lastScope ?? ''}) … ${seconds}s`
        : `queued … ${seconds}s`,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new CliError('timeout', `the sync did not finish within ${Math.round(timeoutMs / 1000)}s`);
}
