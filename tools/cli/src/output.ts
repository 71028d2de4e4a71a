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
