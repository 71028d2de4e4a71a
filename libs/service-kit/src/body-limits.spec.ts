import Fastify, { type FastifyInstance } from 'fastify';
import { request } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { drainRefusedBodies } from './body-limits';

const LIMIT = 1024;
// More than loopback socket buffers hold, so the upload can only finish if the server reads it.
const DECLARED = 24 * 1024 * 1024;
const FIRST = 64 * 1024;

/** A Fastify server with a 1 KiB body limit on `POST /upload`, on loopback, counting what it read. */
async function server(
  drain: boolean,
): Promise<{ app: FastifyInstance; url: string; received: () => number }> {
  const app = Fastify({ bodyLimit: LIMIT });
  if (drain) drainRefusedBodies(app);
  app.post('/upload', () => Promise.resolve({ ok: true }));
  let received = 0;
  app.server.on('connection', (socket: Socket) =>
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/upload`;
  return { app, url, received: () => received };
}

/**
 * Declares a 24 MiB body, sends its first 64 KiB, waits for the answer, then sends the rest as a
 * client still uploading would: resolves with the answer's status and how the upload ended.
 */
function uploadPastTheAnswer(url: string): Promise<{ status: number; upload: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(DECLARED) },
    });
    const timer = setTimeout(() => req.destroy(new Error('no outcome within 10 s')), 10000);
    let status = 0;
    let settled = false;
    const settle = (upload: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ status, upload });
    };
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (status) settle(error.code ?? error.message);
      else reject(error);
    });
    req.on('close', () => {
      if (status) settle('closed');
    });
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      // The rest of the body goes out after the answer, as from a client that writes before it reads.
      req.end(Buffer.alloc(DECLARED - FIRST, 0x20), (error?: Error | null) =>
        settle(error ? ((error as NodeJS.ErrnoException).code ?? error.message) : 'finished'),
      );
    });
    req.write(Buffer.alloc(FIRST, 0x20));
  });
}

describe('drainRefusedBodies', () => {
  let apps: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(apps.map((a) => a.close()));
    apps = [];
  });

  it('reads and drops the rest of a body refused with 413: the client uploading it is not reset', async () => {
    const { app, url, received } = await server(true);
    apps.push(app);
    expect(await uploadPastTheAnswer(url)).toEqual({ status: 413, upload: 'finished' });
    // The client's last bytes may still be on their way when its write completes.
    for (let i = 0; i < 50 && received() <= DECLARED; i++) await new Promise((r) => setTimeout(r, 100));
    expect(received()).toBeGreaterThan(DECLARED);
    // The connection served its request to the end; the server still answers the next one.
    const next = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(next.status).toBe(200);
  });

  it('without it, the connection is closed under the upload right after the 413 (what clients met)', async () => {
    const { app, url, received } = await server(false);
    apps.push(app);
    expect((await uploadPastTheAnswer(url)).status).toBe(413);
    expect(received()).toBeLessThan(DECLARED / 2);
  });
});
