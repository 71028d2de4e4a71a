import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distDir, REPO_ROOT } from './stack';
import { waitFor } from './wait';

export type ServiceName = 'referral-intake' | 'emr-gateway' | 'vault' | 'scheduler' | 'notifier';
/** Everything ServiceProcess can run from dist/services/<name>: the services and the console. */
export type ProcessName = ServiceName | 'console';

/** Directory where spawned services' logs are kept (tests grep them for secrets and PHI). */
export function testLogDir(): string {
  const dir = process.env['CC_TEST_LOG_DIR'] ?? join(tmpdir(), 'cloud-connect-test-logs');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * A service run as a real OS process from the build in dist/ (what production runs), so tests can
 * SIGTERM or SIGKILL it. stdout/stderr go to a log file under testLogDir().
 */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exitCode: number | null | undefined;
  private stderrText = '';
  readonly logFile: string;

  constructor(
    readonly name: ProcessName,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {
    this.logFile = join(testLogDir(), `${name}-${port}-${Date.now()}.log`);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get stderr(): string {
    return this.stderrText;
  }

  start(): this {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    this.exitCode = undefined;
    this.child = spawn(process.execPath, [join(distDir(), 'services', this.name, 'src', 'main.js')], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        ...this.env,
        PORT: String(this.port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.pipe(log);
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrText += chunk.toString();
      log.write(chunk);
    });
    this.child.on('exit', (code, signal) => {
      this.exitCode = code ?? (signal ? 128 : null);
    });
    return this;
  }

  /** Resolves with the exit code once the process has ended (bounded). */
  async exited(timeoutMs = 20000): Promise<number | null> {
    await waitFor(`${this.name} to exit`, () => this.exitCode !== undefined, { timeoutMs, intervalMs: 50 });
    return this.exitCode ?? null;
  }

  async readiness(): Promise<{ status: number; body: { status: string; checks: Record<string, string> } }> {
    const response = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(5000) });
    return {
      status: response.status,
      body: (await response.json()) as { status: string; checks: Record<string, string> },
    };
  }

  async waitReady(timeoutMs = 60000): Promise<void> {
    await waitFor(
      `${this.name} to be ready`,
      async () => {
        if (this.exitCode !== undefined)
          throw new Error(`${this.name} exited with ${this.exitCode}: ${this.stderrText.slice(-500)}`);
        return (await this.readiness()).status === 200;
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  kill(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** SIGTERM and wait; SIGKILL if it does not end in time. Safe to call twice. */
  async stop(timeoutMs = 20000): Promise<void> {
    if (!this.child || this.exitCode !== undefined) return;
    this.child.kill('SIGTERM');
    try {
      await this.exited(timeoutMs);
    } catch {
      this.child.kill('SIGKILL');
      await this.exited(5000);
    }
  }
}
