import { readFileSync } from 'node:fs';

/** The CLI prints one JSON document on stdout; progress goes to stderr. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function progress(message: string): void {
  process.stderr.write(`cloud-connect: ${message}\n`);
}

/** Exit codes: 0 done, 1 the operation failed, 2 bad arguments (usage). */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: 1 | 2 = 1,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

/** An option's value as a whole number (commander argument parser); anything else is a usage error. */
export function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new CliError('invalid-argument', `not a whole number: ${value}`, 2);
  return n;
}

/** The JSON document in `file`, or on stdin when no file (or `-`) is given. */
export function readJsonInput(file: string | undefined): unknown {
  const text = file && file !== '-' ? readFileSync(file, 'utf8') : readFileSync(0, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliError('invalid-json', `${file ?? 'stdin'} is not JSON`, 2);
  }
}
