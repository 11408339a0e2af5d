import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import type { AppContext } from '../../context.js';
import { principalOf } from '../plugins/auth.js';
import { errorResponses, PageQuery } from '../schemas/common.js';

export async function auditRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: Static<typeof PageQuery> }>(
    '/v1/audit',
    {
      config: { permission: 'audit:read' },
      schema: {
        tags: ['audit'],
        summary: "The audit trail: your organisation's records (instance administrators see every record)",
        querystring: PageQuery,
        response: errorResponses,
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const scope = principal.permissions.has('instance:audit') ? null : principal.orgId;
      const page = await ctx.audit.list(scope, request.query);
      return {
        items: page.items.map((r) => ({
          id: r.id,
          organisation_id: r.orgId,
          actor: r.actor,
          action: r.action,
          subject_type: r.subjectType,
          subject_id: r.subjectId,
          detail: r.detail,
          created_at: r.createdAt,
          prev_hash: r.prevHash,
          hash: r.hash,
        })),
        next_cursor: page.nextCursor,
      };
    },
  );
}
