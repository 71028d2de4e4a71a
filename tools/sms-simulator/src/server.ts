import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * Twilio's request signature (X-Twilio-Signature): HMAC-SHA1, keyed by the auth token, of the URL
 * followed by the sorted parameter names and values, base64. Written here independently of the
 * notifier's check, as Twilio's servers would compute it.
 */
function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  let data = url;
  for (const name of Object.keys(params).sort()) data += name + (params[name] ?? '');
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

export interface SimulatedMessage {
  sid: string;
  to: string;
  from: string;
  body: string;
  status: 'queued' | 'sent' | 'delivered' | 'undelivered' | 'failed';
  statusCallback: string | null;
  createdAt: string;
}

export interface SmsSimulatorOptions {
  accountSid: string;
  authToken: string;
  /** The account's number (E.164): inbound messages are to it. */
  number: string;
  /** Where inbound messages (e.g. STOP) are posted, as a Twilio number's "A message comes in" webhook. */
  inboundWebhook?: string;
  /** Delay between the status callbacks queued → sent → delivered. */
  callbackDelayMs?: number;
}

const STOP_WORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'ARRET', 'ARRÊT']);
const START_WORDS = new Set(['START', 'YES', 'UNSTOP']);

/**
 * A real HTTP server speaking the part of Twilio's Programmable Messaging API the notifier uses:
 * `POST /2010-04-01/Accounts/{Sid}/Messages.json` (HTTP Basic with the account SID and auth
 * token, form-encoded To/From/Body/StatusCallback; 201 with the message resource), `GET` of a
 * message, status callbacks signed with `X-Twilio-Signature` (queued → sent → delivered, or
 * undelivered for numbers marked so), and STOP handling like Twilio's default opt-out: an inbound
 * STOP (`POST /_sim/inbound`) blocks the pair and a later send answers 400 with error 21610.
 * Fault switches: `POST /_sim/fail-next {count, status}`, `POST /_sim/undeliverable {to}`.
 */
export class TwilioSimulator {
  readonly messages: SimulatedMessage[] = [];
  private readonly optedOut = new Set<string>();
  private readonly undeliverable = new Set<string>();
  private failures: number[] = [];
  private server: Server | undefined;
  private port = 0;

  constructor(private readonly options: SmsSimulatorOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<void> {
    this.server = createServer(
      (req, res) => void this.handle(req, res).catch(() => res.writeHead(500).end()),
    );
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  failNext(count: number, status = 503): void {
    this.failures.push(...Array.from({ length: count }, () => status));
  }

  /** A patient's phone answers: posts the inbound message to the webhook, as Twilio does. */
  async inbound(from: string, body: string): Promise<number> {
    const word = body.trim().toUpperCase();
    if (STOP_WORDS.has(word)) this.optedOut.add(from);
    if (START_WORDS.has(word)) this.optedOut.delete(from);
    const hook = this.options.inboundWebhook;
    if (!hook) return 0;
    const params: Record<string, string> = {
      AccountSid: this.options.accountSid,
      MessageSid: `SM${randomBytes(16).toString('hex')}`,
      From: from,
      To: this.options.number,
      Body: body,
      ...(STOP_WORDS.has(word)
        ? { OptOutType: 'STOP' }
        : START_WORDS.has(word)
          ? { OptOutType: 'START' }
          : {}),
    };
    return this.post(hook, params);
  }

  private async post(url: string, params: Record<string, string>): Promise<number> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilioSignature(this.options.authToken, url, params),
        },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(5000),
      });
      return response.status;
    } catch {
      return 0;
    }
  }

  private resource(m: SimulatedMessage): Record<string, unknown> {
    return {
      sid: m.sid,
      account_sid: this.options.accountSid,
      to: m.to,
      from: m.from,
      body: m.body,
      status: m.status,
      num_segments: String(Math.max(1, Math.ceil(m.body.length / 153))),
      date_created: new Date(m.createdAt).toUTCString(),
      uri: `/2010-04-01/Accounts/${this.options.accountSid}/Messages/${m.sid}.json`,
    };
  }

  private async callbacks(m: SimulatedMessage): Promise<void> {
    const delay = this.options.callbackDelayMs ?? 100;
    const final = this.undeliverable.has(m.to) ? 'undelivered' : 'delivered';
    for (const status of ['sent', final] as const) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      m.status = status;
      if (m.statusCallback)
        await this.post(m.statusCallback, {
          AccountSid: this.options.accountSid,
          MessageSid: m.sid,
          SmsSid: m.sid,
          MessageStatus: status,
          SmsStatus: status,
          To: m.to,
          From: m.from,
          ...(status === 'undelivered' ? { ErrorCode: '30003' } : {}),
        });
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const error = (status: number, code: number, message: string): void =>
      reply(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
    const url = new URL(req.url ?? '/', 'http://sim');

    // Simulator controls (tests and the demo).
    if (url.pathname.startsWith('/_sim/')) {
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      if (req.method === 'GET' && url.pathname === '/_sim/messages') return reply(200, this.messages);
      if (req.method === 'POST' && url.pathname === '/_sim/inbound')
        return reply(200, { webhookStatus: await this.inbound(String(body['from']), String(body['body'])) });
      if (req.method === 'POST' && url.pathname === '/_sim/fail-next') {
        this.failNext(Number(body['count'] ?? 1), Number(body['status'] ?? 503));
        return reply(200, {});
      }
      if (req.method === 'POST' && url.pathname === '/_sim/undeliverable') {
        this.undeliverable.add(String(body['to']));
        return reply(200, {});
      }
      return reply(404, {});
    }

    const base = `/2010-04-01/Accounts/${this.options.accountSid}/Messages`;
    const expected = `Basic ${Buffer.from(`${this.options.accountSid}:${this.options.authToken}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return error(401, 20003, 'Authenticate');
    const failure = this.failures.shift();
    if (failure !== undefined) return error(failure, failure === 429 ? 20429 : 20500, 'simulated failure');
    if (req.method === 'GET' && url.pathname.startsWith(`${base}/`)) {
      const sid = url.pathname.slice(base.length + 1).replace(/\.json$/, '');
      const m = this.messages.find((x) => x.sid === sid);
      return m ? reply(200, this.resource(m)) : error(404, 20404, 'The requested resource was not found');
    }
    if (req.method !== 'POST' || url.pathname !== `${base}.json`) return error(404, 20404, 'not found');
    if (!/x-www-form-urlencoded/.test(req.headers['content-type'] ?? ''))
      return error(400, 20001, 'form-encoded parameters expected');
    const form = new URLSearchParams(raw);
    const to = form.get('To') ?? '';
    const from = form.get('From') ?? '';
    const text = form.get('Body') ?? '';
    if (!/^\+[1-9][0-9]{6,14}$/.test(to))
      return error(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (from !== this.options.number)
      return error(
        400,
        21606,
        `The From phone number ${from} is not a valid, SMS-capable number for this account.`,
      );
    if (!text) return error(400, 21602, 'Message body is required.');
    if (text.length > 1600)
      return error(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    if (this.optedOut.has(to)) return error(400, 21610, 'Attempt to send to unsubscribed recipient');
    const message: SimulatedMessage = {
      sid: `SM${randomBytes(16).toString('hex')}`,
      to,
      from,
      body: text,
      status: 'queued',
      statusCallback: form.get('StatusCallback'),
      createdAt: new Date().toISOString(),
    };
    this.messages.push(message);
    reply(201, this.resource(message));
    void this.callbacks(message);
  }
}
