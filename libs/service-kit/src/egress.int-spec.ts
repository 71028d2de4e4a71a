// The egress rules against real HTTP servers on loopback (no stack needed): redirects refused and
// never followed, answers capped, address checks on literal hosts, on resolved names and on the
// connected socket, and failures reported as categories.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkEgressTarget, checkEgressUrl, EgressClient, EgressError, isAllowedAddress } from './egress';

interface Seen {
  headers: IncomingMessage['headers'];
  body: string;
}

function server(
  host: string,
  handle: (req: IncomingMessage, res: import('node:http').ServerResponse, body: string) => void,
): Promise<{ server: Server; url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const s = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ headers: req.headers, body });
      handle(req, res, body);
    });
  });
  return new Promise((resolve) =>
    s.listen(0, host, () =>
      resolve({ server: s, url: `http://${host}:${(s.address() as AddressInfo).port}`, seen }),
    ),
  );
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EgressError) return error.category;
    throw error;
  }
  throw new Error('expected the call to fail');
}

const dev = new EgressClient({ allowLoopback: true });
const prod = new EgressClient({ allowLoopback: false });
const servers: Server[] = [];

afterAll(async () => {
  dev.close();
  prod.close();
  await Promise.all(
    servers.map((s) => {
      s.closeAllConnections();
      return new Promise((r) => s.close(r));
    }),
  );
});

describe('egress', () => {
  it('a redirect is a failure: the second host never sees the body or the key header', async () => {
    const second = await server('127.0.0.3', (_req, res) => res.end('{}'));
    const first = await server('127.0.0.1', (_req, res) => {
      res.writeHead(307, { location: `${second.url}/steal` });
      res.end();
    });
    servers.push(second.server, first.server);
    const category = await failure(
      dev.request(`${first.url}/fhir/Patient`, {
        method: 'POST',
        headers: { 'X-API-Key': 'emr-key-never-forwarded', 'content-type': 'application/json' },
        body: '{"secret":"body"}',
        timeoutMs: 5000,
        maxResponseBytes: 1024,
      }),
    );
    expect(category).toBe('redirect');
    expect(first.seen).toHaveLength(1);
    expect(second.seen).toHaveLength(0);
  });

  it('an answer beyond the cap fails as too-large (declared or streamed)', async () => {
    const big = await server('127.0.0.1', (req, res) => {
      if (req.url === '/declared') {
        res.writeHead(200, { 'content-length': String(2 * 1024 * 1024) });
        res.end(Buffer.alloc(2 * 1024 * 1024, 97));
      } else {
        res.writeHead(200);
        for (let i = 0; i < 64; i++) res.write(Buffer.alloc(32 * 1024, 98));
        res.end();
      }
    });
    servers.push(big.server);
    const options = { method: 'GET', timeoutMs: 5000, maxResponseBytes: 64 * 1024 };
    expect(await failure(dev.request(`${big.url}/declared`, options))).toBe('too-large');
    expect(await failure(dev.request(`${big.url}/streamed`, options))).toBe('too-large');
    const ok = await dev.request(`${big.url}/streamed`, { ...options, maxResponseBytes: 4 * 1024 * 1024 });
    expect(ok.status).toBe(200);
    expect(ok.body.length).toBe(64 * 32 * 1024);
  });

  it('a slow answer fails as timeout; a closed port as refused', async () => {
    const slow = await server('127.0.0.1', (_req, res) => setTimeout(() => res.end('late'), 3000).unref());
    servers.push(slow.server);
    expect(
      await failure(dev.request(slow.url, { method: 'GET', timeoutMs: 300, maxResponseBytes: 1024 })),
    ).toBe('timeout');
    expect(
      await failure(
        dev.request('http://127.0.0.1:9/', { method: 'GET', timeoutMs: 3000, maxResponseBytes: 1024 }),
      ),
    ).toBe('refused');
  });

  it('refuses private, link-local and metadata addresses, and http outside loopback', () => {
    for (const url of [
      'http://10.0.0.1/',
      'https://10.1.2.3/fhir',
      'https://169.254.169.254/latest/meta-data/',
      'https://[fd00:ec2::254]/',
      'https://[::ffff:192.168.1.1]/',
      'https://[::ffff:a9fe:a9fe]/',
      'https://100.100.100.200/',
      'https://0.0.0.0/',
      'https://[::]/',
    ])
      expect(() => checkEgressUrl(url, { allowLoopback: true })).toThrow(EgressError);
    expect(() => checkEgressUrl('http://emr.example.ca/', { allowLoopback: true })).toThrow(/https/);
    expect(() => checkEgressUrl('https://user:pw@emr.example.ca/', { allowLoopback: false })).toThrow(
      EgressError,
    );
    expect(() => checkEgressUrl('ftp://emr.example.ca/', { allowLoopback: false })).toThrow(EgressError);
    expect(checkEgressUrl('https://emr.example.ca/fhir', { allowLoopback: false }).host).toBe(
      'emr.example.ca',
    );
    expect(isAllowedAddress('8.8.8.8', { allowLoopback: false })).toBe(true);
    expect(isAllowedAddress('2606:4700::1111', { allowLoopback: false })).toBe(true);
    expect(isAllowedAddress('127.0.0.1', { allowLoopback: false })).toBe(false);
    expect(isAllowedAddress('::1', { allowLoopback: true })).toBe(true);
  });

  it('without the development opt-in, loopback is refused: literal, by name at registration, and on connect', async () => {
    const target = await server('127.0.0.1', (_req, res) => res.end('{}'));
    servers.push(target.server);
    const port = new URL(target.url).port;
    expect(() => checkEgressUrl(target.url, { allowLoopback: false })).toThrow(EgressError);
    // A name resolving to loopback: refused when the name is resolved (registration and send).
    await expect(checkEgressTarget(`https://localhost:${port}/`, { allowLoopback: false })).rejects.toThrow(
      /not public/,
    );
    expect(
      await failure(
        prod.request(`https://localhost:${port}/`, {
          method: 'GET',
          timeoutMs: 3000,
          maxResponseBytes: 1024,
        }),
      ),
    ).toBe('forbidden-address');
    expect(target.seen).toHaveLength(0);
    // A name that does not resolve is accepted at registration (checked again at every send).
    await expect(
      checkEgressTarget('https://receiver.invalid/', { allowLoopback: false }),
    ).resolves.toBeDefined();
  });

  it('refuses invalid header names and values before connecting', async () => {
    const target = await server('127.0.0.1', (_req, res) => res.end('{}'));
    servers.push(target.server);
    const invalid: Record<string, string>[] = [
      { 'bad header': 'x' },
      { Host: 'evil.example' },
      { 'X-Key': 'a\r\nInjected: 1' },
    ];
    for (const headers of invalid)
      expect(
        await failure(
          dev.request(target.url, { method: 'GET', headers, timeoutMs: 3000, maxResponseBytes: 1024 }),
        ),
      ).toBe('invalid-header');
    expect(target.seen).toHaveLength(0);
  });
});
