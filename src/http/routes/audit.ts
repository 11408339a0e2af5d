import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../context.js';
import { principalOf } from '../plugins/auth.js';
import { errorResponses, PageQuery } from '../schemas/common.js';
import { Id, Nullable, PageOf, Time } from '../schemas/views.js';

const AuditQuery = Type.Object(
  {
    ...PageQuery.properties,
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'asc' })),
  },
  { additionalProperties: false },
);

export async function auditRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/v1/audit',
    {
      config: { permission: 'audit:read' },
      schema: {
        tags: ['audit'],
        summary:
          "The audit trail: your organisation's records (instance administrators see every record); ?order=desc for newest first",
        querystring: AuditQuery,
        response: {
          200: PageOf(
            Type.Object({
              id: Id,
              organisation_id: Nullable(Id),
              actor: Type.String(),
              actor_name: Type.String(),
              action: Type.String(),
              subject_type: Type.String(),
              subject_id: Type.String(),
              detail: Type.Record(Type.String(), Type.Unknown()),
              created_at: Time,
              prev_hash: Type.String(),
              hash: Type.String({ description: 'chains the record to the one before it' }),
            }),
          ),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const scope = principal.permissions.has('instance:audit') ? null : principal.orgId;
      const page = await ctx.audit.list(scope, request.query);
      const names = await ctx.review.displayNames(
        principal.orgId,
        page.items.map((r) => r.actor),
      );
      return {
        items: page.items.map((r) => ({
          id: r.id,
          organisation_id: r.orgId,
          actor: r.actor,
          actor_name: names[r.actor] ?? r.actor,
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
