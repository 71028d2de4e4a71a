// Outbound HTTP to addresses a site admin chose (EMR endpoints, copy request URLs, JWKS URLs):
// https only, never to loopback, private, link-local or metadata addresses (checked on the
// resolved address and again on the socket actually connected), no redirects, capped response
// size and time, validated header names, and failures reduced to a few categories.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction, type Socket } from 'node:net';

/** Why an outbound call failed, in words safe for logs, delivery records and admins. */
export type EgressFailure =
  | 'invalid-url'
  | 'scheme'
  | 'forbidden-address'
  | 'dns'
  | 'refused'
  | 'timeout'
  | 'tls'
  | 'network'
  | 'redirect'
  | 'too-large'
  | 'invalid-header';

const EXPLANATIONS: Record<EgressFailure, string> = {
  'invalid-url': 'the URL is not an absolute URL without credentials',
  scheme: 'the URL must use https',
  'forbidden-address': 'the address is loopback, private, link-local or otherwise not public',
  dns: 'the host name did not resolve',
  refused: 'the connection was refused',
  timeout: 'no complete answer in time',
  tls: 'the TLS handshake or certificate check failed',
  network: 'the connection failed',
  redirect: 'the endpoint answered with a redirect (redirects are not followed)',
  'too-large': 'the answer was larger than allowed',
  'invalid-header': 'a header name or value is not valid HTTP',
};

/** An outbound call refused or failed; `message` never carries the URL, a header or a body. */
export class EgressError extends Error {
  constructor(
    readonly category: EgressFailure,
    detail?: string,
  ) {
    super(detail ? `${EXPLANATIONS[category]} (${detail})` : EXPLANATIONS[category]);
    this.name = 'EgressError';
  }
}

export interface EgressPolicy {
  /**
   * Development and test stacks only (their simulators listen on 127.0.0.1): loopback addresses
   * are allowed, over http or https. Everything else stays refused.
   */
  allowLoopback: boolean;
}

export interface EgressRequest {
  method: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Whole exchange, connect to last byte. */
  timeoutMs: number;
  /** Largest answer body read; beyond it the call fails as `too-large`. */
  maxResponseBytes: number;
}

export interface EgressResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** Default answer cap for EMR and JWKS calls (schedules of a busy clinic fit well within). */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

function blockList(ranges: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const list = new BlockList();
  for (const [network, prefix, family] of ranges) list.addSubnet(network, prefix, family);
  return list;
}

/** Special-purpose ranges (IANA registries) that are never a public endpoint. */
const NOT_PUBLIC = blockList([
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT; also Alibaba's metadata 100.100.100.200
  ['169.254.0.0', 16, 'ipv4'], // link-local; cloud metadata 169.254.169.254
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.88.99.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved and broadcast
  ['::', 128, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'], // NAT64 can reach any IPv4 address
  ['64:ff9b:1::', 48, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001::', 23, 'ipv6'], // IETF protocol assignments, Teredo
  ['2001:db8::', 32, 'ipv6'],
  ['2002::', 16, 'ipv6'], // 6to4 embeds any IPv4 address
  ['fc00::', 7, 'ipv6'], // unique local; AWS metadata fd00:ec2::254
  ['fe80::', 10, 'ipv6'],
  ['fec0::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
]);
const LOOPBACK = blockList([
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]);

/** `::ffff:10.0.0.1` (and the hex form) is the IPv4 address it maps. */
function unmapped(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const lower = address.toLowerCase();
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted?.[1]) return { address: dotted[1], family: 'ipv4' };
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex?.[1] && hex[2]) {
    const high = parseInt(hex[1], 16);
    const low = parseInt(hex[2], 16);
    return { address: `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`, family: 'ipv4' };
  }
  return { address: lower, family: isIP(lower) === 4 ? 'ipv4' : 'ipv6' };
}

/** Whether an outbound connection to this IP address is allowed under the policy. */
export function isAllowedAddress(address: string, policy: EgressPolicy): boolean {
  if (isIP(address) === 0) return false;
  const { address: ip, family } = unmapped(address);
  if (LOOPBACK.check(ip, family)) return policy.allowLoopback;
  return !NOT_PUBLIC.check(ip, family);
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * The syntactic rules, without DNS: an absolute URL without credentials; https, or http only to
 * a loopback address when the policy allows loopback; an IP-literal host must be allowed.
 */
export function checkEgressUrl(value: string, policy: EgressPolicy): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new EgressError('invalid-url');
  }
  if (url.username || url.password) throw new EgressError('invalid-url');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new EgressError('scheme');
  const host = hostOf(url);
  const literal = isIP(host) !== 0;
  if (literal && !isAllowedAddress(host, policy)) throw new EgressError('forbidden-address');
  if (url.protocol === 'http:') {
    const loopbackHost = literal
      ? LOOPBACK.check(unmapped(host).address, unmapped(host).family)
      : host === 'localhost';
    if (!(policy.allowLoopback && loopbackHost)) throw new EgressError('scheme');
  }
  return url;
}

/** A `lookup` for sockets that resolves every address of the name and refuses any not allowed. */
export function guardedLookup(policy: EgressPolicy): LookupFunction {
  return ((
    hostname: string,
    options: { family?: number; all?: boolean },
    callback: (...args: unknown[]) => void,
  ) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error);
      if (addresses.length === 0) return callback(new EgressError('dns'));
      if (!addresses.every((a) => isAllowedAddress(a.address, policy)))
        return callback(new EgressError('forbidden-address'));
      if (options.all) return callback(null, addresses);
      const first = addresses[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  }) as LookupFunction;
}

/**
 * At registration: the syntactic rules, then the host's addresses now. Refuses a host that
 * resolves to any forbidden address; a name that does not resolve (yet), or not within
 * `timeoutMs`, is accepted here, since every send resolves and checks again.
 */
export async function checkEgressTarget(value: string, policy: EgressPolicy, timeoutMs = 3000): Promise<URL> {
  const url = checkEgressUrl(value, policy);
  const host = hostOf(url);
  if (isIP(host) !== 0) return url;
  const lookup = guardedLookup(policy);
  const refused = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    lookup(host, { all: true }, (error: unknown) => {
      clearTimeout(timer);
      resolve(error instanceof EgressError && error.category === 'forbidden-address');
    });
  });
  if (refused) throw new EgressError('forbidden-address');
  return url;
}

/** RFC 9110 token characters; a header name is one token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the transport sets itself: a caller may not choose them. */
const TRANSPORT_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'upgrade',
  'te',
]);

export function isValidHeaderName(name: string): boolean {
  return name.length <= 64 && HEADER_NAME.test(name) && !TRANSPORT_HEADERS.has(name.toLowerCase());
}

function checkHeaders(headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) {
    if (!isValidHeaderName(name) || /[\r\n\0]/.test(value)) throw new EgressError('invalid-header');
  }
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|EPROTO$|HOSTNAME_MISMATCH)/;

/** A network error as one of our categories (the raw code never leaves this module). */
export function categorised(error: unknown): EgressError {
  if (error instanceof EgressError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (code === 'ECONNREFUSED') return new EgressError('refused');
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') return new EgressError('timeout');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') return new EgressError('dns');
  if (code === 'ERR_INVALID_CHAR' || code === 'ERR_INVALID_HTTP_TOKEN')
    return new EgressError('invalid-header');
  if (TLS_CODE.test(code)) return new EgressError('tls');
  return new EgressError('network');
}

/** The category of a completed exchange's status, for delivery records (`http-4xx`, `http-5xx`). */
export function statusCategory(status: number): string {
  if (status >= 200 && status < 300) return 'ok';
  if (status >= 300 && status < 400) return 'redirect';
  if (status >= 400 && status < 500) return 'http-4xx';
  return 'http-5xx';
}

/**
 * An HTTP client bound to one policy: keep-alive agents whose sockets resolve through
 * `guardedLookup`, and a check of the address each new socket actually connected to.
 */
export class EgressClient {
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;

  constructor(readonly policy: EgressPolicy) {
    const lookup = guardedLookup(policy);
    this.httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16, lookup });
    this.httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 16, lookup });
  }

  /** For libraries that take an agent (e.g. jose's remote JWKS): same lookup and connect checks. */
  agentFor(url: URL): HttpAgent | HttpsAgent {
    return url.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
  }

  /** One exchange; a 3xx is an `EgressError('redirect')` and the answer is never followed. */
  async request(value: string | URL, options: EgressRequest): Promise<EgressResponse> {
    const url = checkEgressUrl(String(value), this.policy);
    const headers = options.headers ?? {};
    checkHeaders(headers);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<EgressResponse>((resolve, reject) => {
      let settled = false;
      const finish = (error: EgressError | null, response?: EgressResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          req.destroy();
          reject(error);
        } else resolve(response as EgressResponse);
      };
      const req = send(url, {
        method: options.method,
        headers:
          options.body === undefined
            ? headers
            : { ...headers, 'content-length': String(Buffer.byteLength(options.body)) },
        agent: this.agentFor(url),
      });
      const timer = setTimeout(() => finish(new EgressError('timeout')), options.timeoutMs);
      req.on('socket', (socket: Socket) => {
        const verify = (): void => {
          if (!socket.remoteAddress || !isAllowedAddress(socket.remoteAddress, this.policy)) {
            socket.destroy();
            finish(new EgressError('forbidden-address'));
          }
        };
        if (socket.connecting) socket.once('connect', verify);
        else verify();
      });
      req.on('error', (error) => finish(categorised(error)));
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          res.resume();
          return finish(new EgressError('redirect', `HTTP ${status}`));
        }
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (declared > options.maxResponseBytes) return finish(new EgressError('too-large'));
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxResponseBytes) finish(new EgressError('too-large'));
          else chunks.push(chunk);
        });
        res.on('error', (error) => finish(categorised(error)));
        res.on('end', () => finish(null, { status, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.end(options.body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
