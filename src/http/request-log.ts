/**
 * The server's log: one line per request (method, path, status, time) and one per error. In a terminal the lines
 * are written for people (`12:04:31 POST /v1/match 200 2.1 ms`); otherwise, or with `--log-format json`, as
 * pino's JSON lines for log collectors. Request ids (`reqId`) tie a request's lines together.
 */
import type { FastifyInstance } from 'fastify';

export { loggerOptions, prettyLine, type LogFormat } from '../core/logger.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The path carries a secret (an acknowledgement link's token): the log names the route, not the path. */
    secretPath?: boolean;
  }
}

/** One line when a request completes (Fastify's own two lines per request are turned off). */
export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const ms = Math.round(reply.elapsedTime * 10) / 10;
    const path = request.routeOptions.config?.secretPath
      ? request.routeOptions.url!
      : request.url.split('?')[0];
    request.log.info(
      { method: request.method, path, status: reply.statusCode, ms },
      `${request.method} ${path} ${reply.statusCode} ${ms} ms`,
    );
  });
}
