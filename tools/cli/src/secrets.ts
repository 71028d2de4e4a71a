import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { CliError } from './output';

let stdinLines: string[] | undefined;

async function pipedLine(what: string): Promise<string> {
  if (!stdinLines) {
    let text = '';
    for await (const chunk of process.stdin) text += String(chunk);
    stdinLines = text.split(/\r?\n/);
  }
  const line = stdinLines.shift();
  if (line === undefined || line === '')
    throw new CliError(
      'missing-secret',
      `${what}: expected a line on standard input (pipe it in, or run on a terminal to be prompted)`,
      2,
    );
  return line;
}

/**
 * Reads one secret, never from argv: the first line of `file` when given, else the next line of
 * standard input when it is piped, else a prompt on the terminal with echo off.
 */
export async function readSecret(prompt: string, file?: string): Promise<string> {
  const what = prompt.replace(/:\s*$/, '');
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new CliError('missing-secret', `${what}: cannot read ${file}`, 2);
    }
    const line = text.split(/\r?\n/)[0] ?? '';
    if (line === '') throw new CliError('missing-secret', `${what}: ${file} is empty`, 2);
    return line;
  }
  if (!process.stdin.isTTY) return pipedLine(what);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const internals = rl as unknown as { _writeToOutput: (s: string) => void };
  const write = internals._writeToOutput.bind(rl);
  internals._writeToOutput = (s: string) => write(s.startsWith(prompt) ? s : '');
  const answer = await new Promise<string>((resolve) => rl.question(prompt, resolve));
  rl.close();
  process.stderr.write('\n');
  if (answer === '') throw new CliError('missing-secret', `${what}: nothing was typed`, 2);
  return answer;
}

/** Reads a plain (non-secret) answer at a terminal prompt. */
export async function ask(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const answer = await new Promise<string>((resolve) => rl.question(prompt, resolve));
  rl.close();
  return answer.trim();
}
