/**
 * What both listeners (the API and the HMA-only one) share: server options, request log, error handling and
 * upload limits. One place, so the two cannot drift apart.
 */
import fastifyMultipart from '@fastify/multipart';
import type { IncomingMessage } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { inRequest } from '../core/logger.js';
import { registerErrorHandling } from './plugins/errors.js';
import { registerRequestLog, type LogFormat } from './request-log.js';

export interface ListenerOptions {
  /** Log requests and errors through the process logger (ctx.logger, whose format `serve` chose). */
  logger?: boolean | LogFormat;
  /** Rewrites a request's URL before routing (e.g. doubled slashes from HMA clients). */
  rewriteUrl?: (url: string) => string;
}

export function createListener(ctx: AppContext, options: ListenerOptions): FastifyInstance {
  const { http } = ctx.config;
  // Requests are logged by the process logger (the one background jobs write to), so one stream holds both.
  const app = Fastify({
    // Errors always reach it; request lines only when asked (see registerRequestLog below).
    loggerInstance: ctx.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: http.bodyLimitBytes,
    trustProxy: http.trustProxy,
    ajv: {
      // Unknown fields are refused, not silently dropped: a typo in a field name must not go unnoticed.
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true },
    },
    requestTimeout: 120_000,
    rewriteUrl: (request: IncomingMessage) => options.rewriteUrl?.(request.url ?? '/') ?? request.url ?? '/',
  });
  app.decorate('ctx', ctx);
  registerErrorHandling(app);
  if (options.logger) registerRequestLog(app);
  // The handler, and the background work it starts, run as part of the request (their log lines name it).
  app.addHook('preHandler', (request, _reply, done) => inRequest(request.id, done));
  return app;
}

/** One file per upload, within the size limit; a few short fields beside it. */
export async function registerUploads(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(fastifyMultipart, {
    limits: {
      fileSize: ctx.config.http.maxUploadBytes,
      files: 1,
      fields: 20,
      parts: 25,
      fieldSize: 1024 * 1024,
    },
  });
}
