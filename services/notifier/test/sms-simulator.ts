import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface SimulatedSms {
  id: string;
  to: string;
  text: string;
  idempotencyKey: string;
}

/**
 * The HTTP SMS API as a real server on loopback, for tests: `POST /messages` with a bearer key.
 * `failNext(n, status)` makes the next n requests fail; a repeated Idempotency-Key is not
 * delivered twice (like real providers).
 */
export class SmsSimulator {
  readonly delivered: SimulatedSms[] = [];
  requests = 0;
  private failures: number[] = [];
  private server: Server | undefined;
  private port = 0;

  constructor(private readonly apiKey: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  failNext(count: number, status = 503): void {
    this.failures.push(...Array.from({ length: count }, () => status));
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    this.requests += 1;
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/messages') return reply(404, { error: 'not found' });
    if (req.headers['authorization'] !== `Bearer ${this.apiKey}`) return reply(401, { error: 'bad key' });
    const failure = this.failures.shift();
    if (failure) return reply(failure, { error: 'simulated failure' });
    const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { to?: string; text?: string };
    const key = String(req.headers['idempotency-key'] ?? '');
    if (!body.to || !/^\+[1-9][0-9]{6,14}$/.test(body.to) || !body.text)
      return reply(400, { error: 'bad message' });
    const existing = this.delivered.find((m) => m.idempotencyKey === key);
    if (existing) return reply(200, { id: existing.id });
    const sms = { id: `sms-${this.delivered.length + 1}`, to: body.to, text: body.text, idempotencyKey: key };
    this.delivered.push(sms);
    return reply(201, { id: sms.id });
  }
}
