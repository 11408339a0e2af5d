/**
 * buildApp(ctx): the Fastify application over one AppContext. Routes are registered explicitly (routes/index.ts);
 * every route declares the permission it needs (`config.permission`), and the auth hook refuses the rest.
 */
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { collapseSlashes } from './hma-app.js';
import { registerAuth } from './plugins/auth.js';
import { registerRoutes } from './routes/index.js';
import type { LogFormat } from './request-log.js';
import { createListener, registerUploads } from './fastify-options.js';

export interface BuildAppOptions {
  /** Log requests and errors: true = JSON lines; 'pretty' = a line for people per request. */
  logger?: boolean | LogFormat;
}

export async function buildApp(ctx: AppContext, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const { http } = ctx.config;
  // HMA clients with a base URL ending in `/` send `//c/banks`: served, for the HMA facade's paths only.
  const app = createListener(ctx, {
    logger: options.logger,
    rewriteUrl: (url: string) => collapseSlashes(url, true),
  });
  registerSecurityHeaders(app);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Kaitiaki API',
        version: '0.1.0',
        description:
          'Hash matching and sharing for terrorist and violent-extremist content. Every /v1, /h, /m and /c route ' +
          'needs `Authorization: Bearer <api key>`. Errors are application/problem+json with a stable `code`.',
      },
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key from `kaitiaki init` or POST /v1/keys',
          },
        },
      },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true }, config: { permission: null } }, async () =>
    app.swagger(),
  );

  await app.register(fastifyCookie);
  await registerUploads(app, ctx);
  await app.register(fastifyRateLimit, {
    global: true,
    max: http.rateLimitPerMinute,
    timeWindow: 60_000,
    // Per API key when the header holds one (so one noisy client does not starve the rest), else per address.
    // Only well-formed keys count: a made-up header per request must not buy a fresh allowance.
    keyGenerator: (request) => rateLimitKey(request.headers.authorization, request.ip),
    allowList: (request) => request.url.startsWith('/health'),
  });

  registerAuth(app, ctx);
  await registerRoutes(app, ctx);
  await registerWebUi(app);
  return app;
}

/**
 * Every answer says it must not be framed or sniffed. API answers are data, so their policy allows nothing at
 * all; the API docs page loads its own scripts and styles only. The UI's static files set their own policy.
 */
function registerSecurityHeaders(app: FastifyInstance): void {
  const api = "default-src 'none'; frame-ancestors 'none'";
  const docs =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    // The UI's files carry their own policy (set by the static file server on the raw response).
    if (!request.url.startsWith('/ui/') && !reply.hasHeader('content-security-policy'))
      reply.header('content-security-policy', request.url.startsWith('/docs') ? docs : api);
    return payload;
  });
}

/**
 * The review UI (web/, built by `npm run build`) at /ui/. Its own page needs no key: it signs people in, and every
 * call it makes goes through the same authenticated API.
 */
async function registerWebUi(app: FastifyInstance): Promise<void> {
  const root = ['../../web/dist', '../../../web/dist']
    .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
    .find((path) => existsSync(`${path}/index.html`));
  if (!root) return;
  await app.register(fastifyStatic, {
    root,
    prefix: '/ui/',
    setHeaders: (res) => {
      res.setHeader('x-frame-options', 'DENY');
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader(
        'content-security-policy',
        "default-src 'self'; img-src 'self' blob:; style-src 'self'; frame-ancestors 'none'",
      );
    },
  });
  app.get('/', { config: { permission: null }, schema: { hide: true } }, async (_request, reply) =>
    reply.redirect('/ui/'),
  );
  app.get('/ui', { config: { permission: null }, schema: { hide: true } }, async (_request, reply) =>
    reply.redirect('/ui/'),
  );
}

declare module 'fastify' {
  interface FastifyInstance {
    ctx: AppContext;
  }
}

const API_KEY_HEADER = /^Bearer\s+(kt_[A-Za-z0-9]{8})_[A-Za-z0-9_-]{32}\s*$/i;

/** The rate-limit bucket of a request: its API key's prefix and address, or its address alone. */
export function rateLimitKey(authorization: string | undefined, ip: string): string {
  const key = authorization ? API_KEY_HEADER.exec(authorization) : null;
  return key ? `${key[1]}@${ip}` : ip;
}
