/**
 * buildApp(ctx): the Fastify application over one AppContext. Routes are registered explicitly (routes/index.ts);
 * every route declares the permission it needs (`config.permission`), and the auth hook refuses the rest.
 */
import fastifyCookie from '@fastify/cookie';
import fastifyMultipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { registerAuth } from './plugins/auth.js';
import { registerErrorHandling } from './plugins/errors.js';
import { registerRoutes } from './routes/index.js';

export interface BuildAppOptions {
  logger?: boolean;
}

export async function buildApp(ctx: AppContext, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const { http } = ctx.config;
  const app = Fastify({
    logger: options.logger ? { level: process.env.KAITIAKI_LOG_LEVEL ?? 'info' } : false,
    bodyLimit: http.bodyLimitBytes,
    trustProxy: http.trustProxy,
    ajv: {
      // Unknown fields are refused, not silently dropped: a typo in a field name must not go unnoticed.
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true },
    },
    requestTimeout: 120_000,
  });
  app.decorate('ctx', ctx);
  registerErrorHandling(app);

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
  await app.register(fastifyMultipart, {
    limits: { fileSize: http.maxUploadBytes, files: 1, fields: 20, parts: 25, fieldSize: 1024 * 1024 },
  });
  await app.register(fastifyRateLimit, {
    global: true,
    max: http.rateLimitPerMinute,
    timeWindow: 60_000,
    // Per API key when there is one (so one noisy client does not starve the rest), else per address.
    keyGenerator: (request) => request.headers.authorization?.slice(-16) ?? request.ip,
    allowList: (request) => request.url.startsWith('/health'),
  });

  registerAuth(app, ctx);
  await registerRoutes(app, ctx);
  await registerWebUi(app);
  return app;
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
