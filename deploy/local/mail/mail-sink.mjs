#!/usr/bin/env node
// Local SMTP sink for development and tests (started by deploy/local/stack.sh).
//
// * SMTP on MAIL_SMTP_HOST:MAIL_SMTP_PORT (default 127.0.0.1:52525): a real SMTP server
//   (smtp-server). No TLS (STARTTLS is not offered), authentication optional: a client that
//   sends AUTH is accepted with any credentials, so app configs with SMTP user/pass work too.
//   Messages are limited to MAIL_MAX_BYTES (default 10 MiB); bigger ones are refused with 552.
// * Every accepted message is parsed with mailparser and kept in memory and appended as one
//   JSON line to the store file (--store=FILE or MAIL_STORE_FILE), which is read back at start,
//   so a restart keeps messages.
// * HTTP API on MAIL_API_HOST:MAIL_API_PORT (default 127.0.0.1:58025):
//     GET    /health                -> {"status":"ok","messages":N,...}
//     GET    /messages              -> JSON array, oldest first
//     GET    /messages?to=addr      -> only messages for addr (To, Cc, Bcc or envelope RCPT TO;
//                                       case-insensitive); also ?from=addr and ?subject=text
//                                       (substring, case-insensitive)
//     GET    /messages/:id          -> one message, 404 if unknown
//     DELETE /messages              -> clears memory and the store file; {"deleted":N}
//   A message is {id, from, to[], cc[], bcc[], subject, text, html, headers{}, receivedAt,
//   messageId, envelope{from,to[]}, attachments[{filename,contentType,size}], size}.
//   headers: lower-case header name -> raw (unfolded) value, an array if repeated.
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';

const SMTP_HOST = process.env.MAIL_SMTP_HOST || '127.0.0.1';
const SMTP_PORT = Number(process.env.MAIL_SMTP_PORT || 52525);
const API_HOST = process.env.MAIL_API_HOST || '127.0.0.1';
const API_PORT = Number(process.env.MAIL_API_PORT || 58025);
const MAX_BYTES = Number(process.env.MAIL_MAX_BYTES || 10 * 1024 * 1024);
// --store=FILE (as stack.sh passes it, so `ps` shows which stack a sink belongs to) wins over env.
const storeArg = process.argv.slice(2).find((a) => a.startsWith('--store='));
const STORE_FILE = storeArg ? storeArg.slice('--store='.length) : process.env.MAIL_STORE_FILE || '';

const log = (...args) => console.log(new Date().toISOString(), 'mail-sink:', ...args);

/** @type {Array<Record<string, unknown>>} */
let messages = [];

function loadStore() {
  if (!STORE_FILE) return;
  fs.mkdirSync(path.dirname(STORE_FILE), { recursive: true, mode: 0o700 });
  if (!fs.existsSync(STORE_FILE)) return;
  const lines = fs.readFileSync(STORE_FILE, 'utf8').split('\n');
  let bad = 0;
  for (const line of lines) {
    if (!line.trim()) continue;
    try {
      messages.push(JSON.parse(line));
    } catch {
      bad += 1; // a torn last line after a crash: skip it
    }
  }
  log(
    `loaded ${messages.length} message(s) from ${STORE_FILE}${bad ? ` (${bad} unreadable line(s) skipped)` : ''}`,
  );
}

function persist(msg) {
  if (!STORE_FILE) return;
  fs.appendFileSync(STORE_FILE, JSON.stringify(msg) + '\n', { mode: 0o600 });
}

const addrList = (field) => {
  if (!field) return [];
  const groups = Array.isArray(field) ? field : [field];
  const out = [];
  const walk = (entries) => {
    for (const a of entries || []) {
      if (a.group) walk(a.group);
      else if (a.address) out.push(a.address);
    }
  };
  for (const g of groups) walk(g.value);
  return out;
};

function headersObject(headerLines) {
  /** @type {Record<string, string | string[]>} */
  const out = {};
  for (const { key, line } of headerLines || []) {
    const idx = line.indexOf(':');
    const value = (idx >= 0 ? line.slice(idx + 1) : line).replace(/\r?\n[ \t]+/g, ' ').trim();
    const k = key.toLowerCase();
    if (k in out) out[k] = [].concat(out[k], value);
    else out[k] = value;
  }
  return out;
}

function toRecord(parsed, session, size) {
  const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  const envelopeTo = session.envelope.rcptTo.map((r) => r.address);
  const headerTo = addrList(parsed.to);
  return {
    id: randomUUID(),
    from: addrList(parsed.from)[0] || envelopeFrom,
    to: headerTo.length ? headerTo : envelopeTo,
    cc: addrList(parsed.cc),
    bcc: addrList(parsed.bcc),
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    html: typeof parsed.html === 'string' ? parsed.html : null,
    headers: headersObject(parsed.headerLines),
    receivedAt: new Date().toISOString(),
    messageId: parsed.messageId ?? null,
    envelope: { from: envelopeFrom, to: envelopeTo },
    attachments: (parsed.attachments || []).map((a) => ({
      filename: a.filename ?? null,
      contentType: a.contentType,
      size: a.size,
    })),
    size,
  };
}

const smtp = new SMTPServer({
  name: 'cloudconnect-mail-sink',
  banner: 'cloudconnect local mail sink',
  secure: false,
  disabledCommands: ['STARTTLS'],
  authOptional: true,
  allowInsecureAuth: true,
  size: MAX_BYTES,
  logger: false,
  onAuth(auth, _session, cb) {
    cb(null, { user: auth.username || 'anonymous' });
  },
  onData(stream, session, cb) {
    const chunks = [];
    let size = 0;
    stream.on('data', (c) => {
      size += c.length;
      if (size <= MAX_BYTES) chunks.push(c);
    });
    stream.on('error', (err) => cb(err));
    stream.on('end', async () => {
      if (stream.sizeExceeded) {
        const err = new Error(`Message exceeds the size limit of ${MAX_BYTES} bytes`);
        // @ts-ignore smtp-server reads responseCode
        err.responseCode = 552;
        log(`refused a message of ${size} bytes (limit ${MAX_BYTES})`);
        return cb(err);
      }
      try {
        const raw = Buffer.concat(chunks);
        const parsed = await simpleParser(raw);
        const rec = toRecord(parsed, session, size);
        messages.push(rec);
        persist(rec);
        log(
          `stored ${rec.id} from=${rec.from} to=${rec.to.join(',')} subject=${JSON.stringify(rec.subject)}`,
        );
        cb(null, `Message queued as ${rec.id}`);
      } catch (err) {
        log('failed to parse/store a message:', err);
        // @ts-ignore
        err.responseCode = 451;
        cb(err);
      }
    });
  },
});
smtp.on('error', (err) => log('smtp error:', err.message));

function matches(msg, url) {
  const lc = (s) => String(s || '').toLowerCase();
  const to = url.searchParams.get('to');
  if (to) {
    const want = lc(to);
    const all = [
      ...(msg.to || []),
      ...(msg.cc || []),
      ...(msg.bcc || []),
      ...((msg.envelope && msg.envelope.to) || []),
    ].map(lc);
    if (!all.includes(want)) return false;
  }
  const from = url.searchParams.get('from');
  if (from) {
    const want = lc(from);
    if (lc(msg.from) !== want && lc(msg.envelope && msg.envelope.from) !== want) return false;
  }
  const subject = url.searchParams.get('subject');
  if (subject && !lc(msg.subject).includes(lc(subject))) return false;
  return true;
}

function send(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(data),
    'cache-control': 'no-store',
  });
  res.end(data);
}

const api = http.createServer((req, res) => {
  const url = new URL(req.url || '/', `http://${req.headers.host || 'localhost'}`);
  const p = url.pathname.replace(/\/+$/, '') || '/';
  try {
    if (p === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      return send(res, 200, {
        status: 'ok',
        messages: messages.length,
        smtp: `${SMTP_HOST}:${SMTP_PORT}`,
        store: STORE_FILE || null,
      });
    }
    if (p === '/messages' && req.method === 'GET') {
      return send(
        res,
        200,
        messages.filter((m) => matches(m, url)),
      );
    }
    if (p === '/messages' && req.method === 'DELETE') {
      const n = messages.length;
      messages = [];
      if (STORE_FILE) fs.writeFileSync(STORE_FILE, '', { mode: 0o600 });
      log(`cleared ${n} message(s)`);
      return send(res, 200, { deleted: n });
    }
    const one = /^\/messages\/([^/]+)$/.exec(p);
    if (one && req.method === 'GET') {
      const m = messages.find((x) => x.id === decodeURIComponent(one[1]));
      return m ? send(res, 200, m) : send(res, 404, { error: 'not found' });
    }
    return send(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
  } catch (err) {
    log('api error:', err);
    return send(res, 500, { error: String(err && err.message ? err.message : err) });
  }
});

function listen(server, port, host, what) {
  return new Promise((resolve, reject) => {
    const onError = (err) => reject(new Error(`${what} cannot listen on ${host}:${port}: ${err.message}`));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  log(`${signal}: shutting down`);
  const force = setTimeout(() => process.exit(0), 5000);
  force.unref();
  api.close();
  api.closeAllConnections?.();
  smtp.close(() => process.exit(0));
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

try {
  loadStore();
  await listen(smtp, SMTP_PORT, SMTP_HOST, 'SMTP');
  await listen(api, API_PORT, API_HOST, 'HTTP API');
  log(`SMTP on ${SMTP_HOST}:${SMTP_PORT}, HTTP API on http://${API_HOST}:${API_PORT} (pid ${process.pid})`);
} catch (err) {
  log(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
