/**
 * Where this server may send requests of its own (webhooks). Internal addresses — loopback, private ranges,
 * link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast and their IPv6 equivalents — are
 * refused unless the operator allow-listed the host, and other hosts must use https. The check runs when a URL is
 * registered and again on the address a connection actually goes to (the `lookup` hook below), so a name that
 * resolves to a public address at registration and to an internal one later (DNS rebinding) is still refused.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { ValidationError } from './errors.js';

const BLOCKED = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  BLOCKED.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
  ['100::', 64],
] as const)
  BLOCKED.addSubnet(network, prefix, 'ipv6');

/** The IPv4 address inside an IPv4-mapped, IPv4-compatible, NAT64 or 6to4 IPv6 address, if any. */
function embeddedIpv4(ipv6: string): string | null {
  const lower = ipv6.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  const sixToFour = /^2002:([0-9a-f]{1,4}):([0-9a-f]{1,4}):/.exec(lower);
  const parts = hex ?? sixToFour;
  if (!parts) return null;
  const high = parseInt(parts[1], 16);
  const low = parseInt(parts[2], 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** True for addresses a server must not be made to call on behalf of a client. */
export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  if (family === 6) {
    const inner = embeddedIpv4(address);
    if (inner) return BLOCKED.check(inner, 'ipv4');
    return BLOCKED.check(address, 'ipv6');
  }
  return true; // not an address at all: refuse rather than guess
}

export interface OutboundPolicy {
  /** Hosts (`host` or `host:port`) the operator allowed, internal or plain http included. */
  allowedHosts: readonly string[];
}

export function isAllowListed(url: URL, policy: OutboundPolicy): boolean {
  const hostname = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return policy.allowedHosts.some((h) => h === url.host.toLowerCase() || h === hostname);
}

function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** The URL, if it is one and is http(s); a clear `KAI_ERR_BAD_URL` otherwise. `what` names it in the message. */
export function parseHttpUrl(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError(`"${raw.slice(0, 200)}" is not a URL`, 'KAI_ERR_BAD_URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ValidationError(`${what} URLs are http or https`, 'KAI_ERR_BAD_URL');
  return url;
}

/**
 * Checks a URL this server will call later: refused with a clear reason if it is not http(s), not https outside
 * the allow-list, or if its host is (or resolves to) an internal address outside the allow-list.
 */
export async function assertOutboundUrl(raw: string, policy: OutboundPolicy, what = 'webhook'): Promise<URL> {
  const url = parseHttpUrl(raw, what);
  if (url.username || url.password)
    throw new ValidationError(`${what} URLs may not carry a user name or password`, 'KAI_ERR_BAD_URL');
  if (isAllowListed(url, policy)) return url;
  if (url.protocol !== 'https:')
    throw new ValidationError(
      `${what} URLs must use https (plain http only for hosts in KAITIAKI_WEBHOOK_ALLOWED_HOSTS)`,
      'KAI_ERR_URL_NOT_HTTPS',
    );
  const host = bareHost(url);
  const addresses = isIP(host) ? [host] : await resolveAll(host);
  const internal = addresses.find(isInternalAddress);
  if (internal)
    throw new ValidationError(
      `${what} URL host "${url.hostname}" is an internal address (${internal}); an operator can allow it with KAITIAKI_WEBHOOK_ALLOWED_HOSTS`,
      'KAI_ERR_URL_INTERNAL',
    );
  return url;
}

async function resolveAll(host: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses: LookupAddress[]) => {
      if (err)
        reject(
          new ValidationError(
            `the host "${host}" does not resolve (${err.code ?? err.message})`,
            'KAI_ERR_URL_UNRESOLVED',
          ),
        );
      else resolve(addresses.map((a) => a.address));
    });
  });
}

/**
 * A DNS lookup for http(s).request that refuses internal addresses: the check runs on the very address the socket
 * connects to. Used for every host that is not allow-listed.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true, verbatim: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 4);
    const blocked = addresses.find((a) => isInternalAddress(a.address));
    if (blocked) {
      const error = Object.assign(new Error(`refused to connect to internal address ${blocked.address}`), {
        code: 'KAI_ERR_URL_INTERNAL',
      });
      return callback(error, '', 4);
    }
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
};

export interface OutboundResponse {
  status: number;
}

/**
 * POSTs a body to a URL under the policy: allow-listed hosts as they are; others over https only, and only to
 * public addresses (checked on the connected address). The answer's body is read and dropped (at most 64 KiB).
 */
export async function postOutbound(
  raw: string,
  headers: Record<string, string>,
  body: string,
  policy: OutboundPolicy,
  timeoutMs: number,
): Promise<OutboundResponse> {
  const url = new URL(raw);
  const allowed = isAllowListed(url, policy);
  if (!allowed) {
    if (url.protocol !== 'https:') throw new Error('refused: plain http to a host that is not allow-listed');
    const host = bareHost(url);
    if (isIP(host) && isInternalAddress(host))
      throw new Error(`refused to connect to internal address ${host}`);
  }
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        timeout: timeoutMs,
        ...(allowed ? {} : { lookup: publicOnlyLookup }),
      },
      (res) => {
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > 65_536) res.destroy();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('close', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export interface OutboundGetOptions {
  /** Whole-request deadline: connecting, waiting and reading the body (a server that hangs mid-body fails too). */
  timeoutMs: number;
  /** The body may not be larger; a bigger answer is refused, not truncated. */
  maxBytes: number;
  /** Names the env var that opens a host, in refusals (e.g. KAITIAKI_SOURCE_ALLOWED_HOSTS). */
  allowListName: string;
  /** Names what is fetched, in messages. */
  what: string;
}

export interface OutboundGetResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A refused or failed outbound GET, with a code saying which (timeout, too large, refused, network). */
export class OutboundError extends Error {
  override name = 'OutboundError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * GETs a URL under the policy, like postOutbound: allow-listed hosts as they are; others over https only and only
 * to public addresses (checked on the connected address). Redirects are not followed (a 3xx is returned as is).
 * The body is read up to `maxBytes`; one byte more fails the request with KAI_ERR_OUTBOUND_TOO_LARGE.
 */
export function getOutbound(
  raw: string,
  headers: Record<string, string>,
  policy: OutboundPolicy,
  options: OutboundGetOptions,
): Promise<OutboundGetResponse> {
  return requestOutbound('GET', raw, headers, null, policy, options);
}

/** Like getOutbound, with a method and a body (a login POST, say); the answer's body is read the same way. */
export async function requestOutbound(
  method: 'GET' | 'POST',
  raw: string,
  headers: Record<string, string>,
  body: string | null,
  policy: OutboundPolicy,
  options: OutboundGetOptions,
): Promise<OutboundGetResponse> {
  const url = parseHttpUrl(raw, options.what);
  const allowed = isAllowListed(url, policy);
  if (!allowed) {
    if (url.protocol !== 'https:')
      throw new OutboundError(
        'KAI_ERR_URL_NOT_HTTPS',
        `refused: plain http to ${url.host}, which is not in ${options.allowListName}`,
      );
    const host = bareHost(url);
    if (isIP(host) && isInternalAddress(host))
      throw new OutboundError(
        'KAI_ERR_URL_INTERNAL',
        `refused to connect to internal address ${host}; an operator can allow it with ${options.allowListName}`,
      );
  }
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: OutboundError) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      reject(err);
    };
    const deadline = setTimeout(
      () =>
        fail(
          new OutboundError(
            'KAI_ERR_OUTBOUND_TIMEOUT',
            `${url.host} did not answer within ${options.timeoutMs} ms`,
          ),
        ),
      options.timeoutMs,
    );
    const req = request(
      url,
      {
        method,
        headers: body === null ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        ...(allowed ? {} : { lookup: publicOnlyLookup }),
      },
      (res) => {
        const declared = Number(res.headers['content-length']);
        if (declared > options.maxBytes)
          return fail(
            new OutboundError(
              'KAI_ERR_OUTBOUND_TOO_LARGE',
              `${options.what} from ${url.host} is ${declared} bytes, over the limit of ${options.maxBytes}`,
            ),
          );
        const chunks: Buffer[] = [];
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > options.maxBytes)
            return fail(
              new OutboundError(
                'KAI_ERR_OUTBOUND_TOO_LARGE',
                `${options.what} from ${url.host} is over the limit of ${options.maxBytes} bytes`,
              ),
            );
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (settled) return;
          if (!res.complete)
            return fail(
              new OutboundError('KAI_ERR_OUTBOUND_TRUNCATED', `${url.host} closed the connection mid-answer`),
            );
          settled = true;
          clearTimeout(deadline);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('aborted', () =>
          fail(
            new OutboundError('KAI_ERR_OUTBOUND_TRUNCATED', `${url.host} closed the connection mid-answer`),
          ),
        );
        res.on('error', (err) =>
          fail(new OutboundError('KAI_ERR_OUTBOUND_FAILED', `${url.host}: ${err.message}`)),
        );
      },
    );
    req.on('error', (err: Error & { code?: string }) =>
      fail(
        new OutboundError(
          err.code === 'KAI_ERR_URL_INTERNAL' ? 'KAI_ERR_URL_INTERNAL' : 'KAI_ERR_OUTBOUND_FAILED',
          `${options.what} from ${url.host} failed: ${err.message}`,
        ),
      ),
    );
    req.end(body ?? undefined);
  });
}
