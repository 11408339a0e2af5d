import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { ROLES } from '../../auth/roles.js';
import type { AppContext } from '../../context.js';
import { principalOf } from '../plugins/auth.js';
import { errorResponses, IdParams } from '../schemas/common.js';
import { apiKeyView } from '../views.js';

const CreateKey = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: Type.Union(ROLES.map((r) => Type.Literal(r))),
  },
  { additionalProperties: false },
);

export async function keyRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post<{ Body: Static<typeof CreateKey> }>(
    '/v1/keys',
    {
      config: { permission: 'keys:manage' },
      schema: {
        tags: ['keys'],
        summary: 'Create an API key for your organisation; the key is shown only in this response',
        body: CreateKey,
        response: errorResponses,
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { key, info } = await ctx.mutate(principal.label, async (m) => {
        const created = await m.apiKeys.create(principal.orgId, {
          ...request.body,
          createdBy: principal.label,
        });
        await m.audit({
          orgId: principal.orgId,
          action: 'key.create',
          subjectType: 'api_key',
          subjectId: created.info.id,
          detail: { name: created.info.name, role: created.info.role },
        });
        return created;
      });
      return reply.status(201).send({ key, ...apiKeyView(info) });
    },
  );

  app.get(
    '/v1/keys',
    {
      config: { permission: 'keys:manage' },
      schema: { tags: ['keys'], summary: "List your organisation's API keys", response: errorResponses },
    },
    async (request) => ({
      items: (await ctx.apiKeys.list(principalOf(request).orgId)).map(apiKeyView),
    }),
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/v1/keys/:id',
    {
      config: { permission: 'keys:manage' },
      schema: { tags: ['keys'], summary: 'Revoke an API key', params: IdParams, response: errorResponses },
    },
    async (request) => {
      const principal = principalOf(request);
      const info = await ctx.mutate(principal.label, async (m) => {
        const revoked = await m.apiKeys.revoke(principal.orgId, request.params.id);
        await m.audit({
          orgId: principal.orgId,
          action: 'key.revoke',
          subjectType: 'api_key',
          subjectId: revoked.id,
        });
        return revoked;
      });
      ctx.apiKeys.forget(info.id);
      return apiKeyView(info);
    },
  );
}
