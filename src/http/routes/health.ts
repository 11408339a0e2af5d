import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';

/** Liveness and readiness for load balancers and orchestrators; public. */
export async function healthRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/health/live',
    { config: { permission: null }, schema: { tags: ['health'], summary: 'The process is up' } },
    async () => ({
      status: 'ok',
    }),
  );
  app.get(
    '/health/ready',
    {
      config: { permission: null },
      schema: { tags: ['health'], summary: 'The index is loaded and following the store' },
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
