/** Starts the HTTP server over an AppContext and shuts it down gracefully on SIGINT/SIGTERM. */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { buildApp } from './app.js';
import type { LogFormat } from './request-log.js';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function startServer(
  ctx: AppContext,
  options: { logger?: boolean | LogFormat } = {},
): Promise<RunningServer> {
  const app = await buildApp(ctx, { logger: options.logger });
  const url = await app.listen({ host: ctx.config.http.host, port: ctx.config.http.port });
  let closing: Promise<void> | null = null;
  const close = () => (closing ??= app.close().then(() => ctx.close()));
  return { app, url, close };
}
