/**
 * The HMA listener: a second Fastify server in the `serve` process that answers only the HMA facade (/h, /m, /c,
 * /status), without authentication, acting as one organisation. That is how HMA itself is deployed, behind the
 * network boundary, and what clients that cannot send a key (ROOST's Coop) need. Because anyone who reaches it
 * acts as that organisation, it binds only to loopback or private addresses unless forced.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { permissionsOf, type Principal } from '../auth/roles.js';
import type { AppContext } from '../context.js';
import { ForbiddenError, KaitiakiError, NotFoundError, ValidationError } from '../core/errors.js';
import { hmaRoutes } from './routes/hma.js';
import type { LogFormat } from './request-log.js';
import { createListener, registerUploads } from './fastify-options.js';

/** The role the listener acts with: it can hash, match and manage its organisation's banks, nothing more. */
export const HMA_LISTENER_ROLE = 'moderator';

export function parseHmaListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  if (!match)
    throw new ValidationError(
      `--hma-listen "${value}" is not HOST:PORT (e.g. 127.0.0.1:5000 or [::1]:5000)`,
      'KAI_ERR_CONFIG',
    );
  const port = Number(match[3]);
  if (port > 65535) throw new ValidationError(`--hma-listen: port ${port} is over 65535`, 'KAI_ERR_CONFIG');
  return { host: match[1] ?? match[2], port };
}

/** Loopback (127/8, ::1), RFC 1918 (10/8, 172.16/12, 192.168/16) and IPv6 unique local (fc00::/7) addresses. */
export function isPrivateAddress(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (mapped) return isPrivateAddress(mapped[1]);
  if (isIP(h) === 4) {
    const [a, b] = h.split('.').map(Number);
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  if (isIP(h) === 6) return h === '::1' || /^f[cd][0-9a-f]{0,2}:/.test(h);
  return false;
}

/** Refuses a public bind address (a name must resolve only to private addresses) unless forced. */
export async function checkHmaListenAddress(host: string, force: boolean): Promise<void> {
  if (force) return;
  let addresses = [host];
  if (isIP(host) === 0 && host.toLowerCase() !== 'localhost') {
    try {
      addresses = (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      throw new ValidationError(`--hma-listen: cannot resolve "${host}"`, 'KAI_ERR_CONFIG');
    }
  }
  const open = addresses.filter((a) => !isPrivateAddress(a));
  if (open.length > 0)
    throw new ValidationError(
      `--hma-listen ${host}: the HMA listener has no authentication, so it binds only to loopback or private ` +
        `addresses (127.0.0.0/8, ::1, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7), not ${open.join(', ')}; ` +
        'add --hma-listen-force (KAITIAKI_HMA_LISTEN_FORCE=true) if a firewall keeps it private',
      'KAI_ERR_CONFIG',
    );
}

/** The organisation (id or exact name) the listener acts as, as a synthetic principal labelled `hma:<name>`. */
export async function hmaPrincipal(ctx: AppContext, org: string): Promise<Principal> {
  const spec = org.trim();
  let found;
  if (/^\d+$/.test(spec)) {
    try {
      found = await ctx.organisations.get(Number(spec));
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
  found ??= await ctx.organisations.findByName(spec);
  if (!found)
    throw new ValidationError(
      `--hma-org: organisation "${spec}" not found (give an existing organisation's id or exact name)`,
      'KAI_ERR_CONFIG',
    );
  return {
    orgId: found.id,
    role: HMA_LISTENER_ROLE,
    permissions: permissionsOf(HMA_LISTENER_ROLE),
    label: `hma:${found.name}`,
  };
}

const HMA_PATH = /^\/(?:[chm]\/|status(?:\/|$))/;

/**
 * Collapses repeated slashes in the path (`//c/banks`, which a client configured with a base URL ending in `/`
 * sends). With onlyHma, only paths of the HMA facade are touched, so the rest of the API routes as before.
 */
export function collapseSlashes(url: string, onlyHma: boolean): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (!path.includes('//')) return url;
  const collapsed = path.replace(/\/{2,}/g, '/');
  if (onlyHma && !HMA_PATH.test(collapsed)) return url;
  return collapsed + (q === -1 ? '' : url.slice(q));
}

/** The HMA-only application: the facade routes and nothing else, every request acting as `principal`. */
export async function buildHmaApp(
  ctx: AppContext,
  principal: Principal,
  options: { logger?: boolean | LogFormat } = {},
): Promise<FastifyInstance> {
  const { http } = ctx.config;
  const app = createListener(ctx, {
    logger: options.logger,
    rewriteUrl: (url: string) => collapseSlashes(url, false),
  });
  await registerUploads(app, ctx);
  // The same per-minute limit as the main listener, per client address (there are no keys here).
  await app.register(fastifyRateLimit, {
    global: true,
    max: http.rateLimitPerMinute,
    timeWindow: 60_000,
    allowList: (request) => request.url.startsWith('/status'),
  });
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    request.principal = principal;
    const permission = request.routeOptions.config?.permission;
    if (permission && !principal.permissions.has(permission))
      throw new ForbiddenError(`the HMA listener's role does not allow this (it needs "${permission}")`);
  });
  await hmaRoutes(app, ctx);
  return app;
}

export interface RunningHmaServer {
  app: FastifyInstance;
  url: string;
  principal: Principal;
}

/** Checks the address and the organisation, then listens. */
export async function startHmaServer(
  ctx: AppContext,
  options: { listen: string; org: string; force: boolean; logger?: boolean | LogFormat },
): Promise<RunningHmaServer> {
  const { host, port } = parseHmaListen(options.listen);
  await checkHmaListenAddress(host, options.force);
  const principal = await hmaPrincipal(ctx, options.org);
  const app = await buildHmaApp(ctx, principal, { logger: options.logger });
  try {
    const url = await app.listen({ host, port });
    return { app, url, principal };
  } catch (err) {
    await app.close();
    throw new KaitiakiError(
      'KAI_ERR_CONFIG',
      `--hma-listen ${options.listen}: cannot listen (${err instanceof Error ? err.message : String(err)})`,
      500,
      2,
    );
  }
}
