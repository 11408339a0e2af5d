import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { Nullable, Time } from '../schemas/views.js';

const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not-ready')]),
  index_loaded_at: Nullable(Time),
  last_sync_error: Nullable(Type.String()),
});

/** Liveness and readiness for load balancers and orchestrators; public. */
export async function healthRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/health/live',
    {
      config: { permission: null },
      schema: {
        tags: ['health'],
        summary: 'The process is up',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({
      status: 'ok',
    }),
  );
  app.get(
    '/health/ready',
    {
      config: { permission: null },
      schema: {
        tags: ['health'],
        summary: 'The index is loaded and following the store',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const ready = ctx.indexSync.loadedAt !== null && ctx.indexSync.lastError === null;
      return reply.status(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'not-ready',
        index_loaded_at: ctx.indexSync.loadedAt,
        last_sync_error: ctx.indexSync.lastError,
      });
    },
  );
}
