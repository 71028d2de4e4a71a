import { readProblem } from '@cloud-connect/errors';
import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { CliError, printJson } from './output';

/**
 * `sek store|view|replace|remove|restore|approve-destroy|destroy --site N` and the sign-in they share with `audit`: the CLI talks
 * to the vault service's HTTP API as a signed-in site admin. Secrets (password, SEK) come from
 * standard input — one per line when piped, or prompts that do not echo — never from argv.
 */
export interface AdminConnection {
  url: string;
  email: string;
}

let stdinLines: string[] | undefined;

async function pipedLine(): Promise<string> {
  if (!stdinLines) {
    let text = '';
    for await (const chunk of process.stdin) text += String(chunk);
    stdinLines = text.split(/\r?\n/);
  }
  const line = stdinLines.shift();
  if (line === undefined || line === '')
    throw new CliError('missing-secret', 'expected another line on standard input', 2);
  return line;
}

/** Reads one secret: the next stdin line when piped, or a prompt with echo off on a terminal. */
export async function readSecret(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) return pipedLine();
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const internals = rl as unknown as { _writeToOutput: (s: string) => void };
  const write = internals._writeToOutput.bind(rl);
  internals._writeToOutput = (s: string) => write(s.startsWith(prompt) ? s : '');
  const answer = await new Promise<string>((resolve) => rl.question(prompt, resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

async function send(
  url: string,
  init: RequestInit,
): Promise<{ status: number; retryAfter: string | null; body: unknown; text: string }> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(30000) });
  } catch {
    throw new CliError('unreachable', `the vault service at ${new URL(url).origin} is not reachable`);
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    body = null;
  }
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body, text };
}

function failed(status: number, body: unknown, retryAfter?: string | null): CliError {
  const { code, detail: message } = readProblem(status, body);
  return new CliError(
    code,
    retryAfter ? `${message} (retry after ${retryAfter}s)` : message,
    status === 400 ? 2 : 1,
  );
}

/** Signs in (password from stdin or a prompt) and returns the access token. */
export async function signIn(connection: AdminConnection): Promise<string> {
  const password = await readSecret('Password: ');
  const { status, body } = await send(`${connection.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: connection.email, password }),
  });
  if (status !== 200) throw failed(status, body);
  return (body as { access_token: string }).access_token;
}

/** An authenticated request to the vault service; the token is never printed. */
export async function adminRequest(
  connection: AdminConnection,
  token: string,
  method: string,
  path: string,
  json?: unknown,
): Promise<{ body: unknown; text: string }> {
  const { status, retryAfter, body, text } = await send(`${connection.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  if (status < 200 || status > 299) throw failed(status, body, retryAfter);
  return { body, text };
}

export function connectionOptions(command: Command): Command {
  return command
    .requiredOption('--site <n>', 'site number')
    .requiredOption('--email <email>', 'your e-mail (you sign in as a site admin)')
    .option(
      '--url <url>',
      'the vault service',
      process.env['CC_VAULT_SERVICE_URL'] ?? 'http://127.0.0.1:3003',
    );
}

interface SekOptions {
  site: string;
  email: string;
  url: string;
}

export function registerSekCommands(program: Command): void {
  const sek = program
    .command('sek')
    .description("a site's Shared Encryption Key in the vault (password, then SEK, from stdin or prompts)");
  const path = (site: string): string => `/sites/${encodeURIComponent(site)}/sek`;

  connectionOptions(sek.command('store').description('store the SEK of a site that has none')).action(
    async (o: SekOptions) => {
      const token = await signIn(o);
      const value = await readSecret('SEK (base64): ');
      printJson((await adminRequest(o, token, 'POST', path(o.site), { sek: value })).body);
    },
  );
  connectionOptions(
    sek.command('replace').description('replace the SEK (earlier versions stay readable)'),
  ).action(async (o: SekOptions) => {
    const token = await signIn(o);
    const value = await readSecret('New SEK (base64): ');
    printJson((await adminRequest(o, token, 'PUT', path(o.site), { sek: value })).body);
  });
  connectionOptions(
    sek.command('view').description('show the SEK (alerts the clinical administrator)'),
  ).action(async (o: SekOptions) => {
    const token = await signIn(o);
    printJson((await adminRequest(o, token, 'GET', path(o.site))).body);
  });
  connectionOptions(
    sek
      .command('remove')
      .description('remove the SEK (recoverable with `sek restore` during the recovery window)'),
  ).action(async (o: SekOptions) => {
    const token = await signIn(o);
    printJson((await adminRequest(o, token, 'DELETE', path(o.site))).body);
  });
  for (const [name, route, description] of [
    ['restore', 'restore', 'bring a removed SEK back (before it is destroyed)'],
    [
      'approve-destroy',
      'destroy-approval',
      'approve destroying a removed SEK (an admin other than the remover)',
    ],
    ['destroy', 'destroy', 'destroy a removed SEK for good (after the window, once approved)'],
  ] as const) {
    connectionOptions(sek.command(name).description(description)).action(async (o: SekOptions) => {
      const token = await signIn(o);
      printJson((await adminRequest(o, token, 'POST', `${path(o.site)}/${route}`)).body);
    });
  }
}
