import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { ROLES } from '../../auth/roles.js';
import type { AppContext } from '../../context.js';
import { principalOf } from '../plugins/auth.js';
import { ApiKeyView, ItemsOf } from '../schemas/views.js';
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
        response: {
          201: Type.Intersect([
            Type.Object({ key: Type.String({ description: 'shown only here' }) }),
            ApiKeyView,
          ]),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { key, info } = await ctx.accounts.createKey(principal.label, principal.orgId, request.body);
      return reply.status(201).send({ key, ...apiKeyView(info) });
    },
  );

  app.get(
    '/v1/keys',
    {
      config: { permission: 'keys:manage' },
      schema: {
        tags: ['keys'],
        summary: "List your organisation's API keys",
        response: { 200: ItemsOf(ApiKeyView), ...errorResponses },
      },
    },
    async (request) => ({
      items: (await ctx.apiKeys.list(principalOf(request).orgId)).map(apiKeyView),
    }),
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/v1/keys/:id',
    {
      config: { permission: 'keys:manage' },
      schema: {
        tags: ['keys'],
        summary: 'Revoke an API key',
        params: IdParams,
        response: { 200: ApiKeyView, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const info = await ctx.accounts.revokeKey(principal.label, principal.orgId, request.params.id);
      return apiKeyView(info);
    },
  );
}
