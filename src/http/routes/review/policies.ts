/** Policies: what a match does for the organisation. */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../../context.js';
import { POLICY_ACTIONS } from '../../../review/policy.js';
import { principalOf } from '../../plugins/auth.js';
import { errorResponses } from '../../schemas/common.js';
import { Id, Nullable } from '../../schemas/views.js';

const PoliciesBody = Type.Object(
  {
    policies: Type.Array(
      Type.Object(
        {
          bank_id: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
          label: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()]),
          action: Type.Union(POLICY_ACTIONS.map((a) => Type.Literal(a))),
        },
        { additionalProperties: false },
      ),
      { maxItems: 500 },
    ),
  },
  { additionalProperties: false },
);

const Policies = Type.Object({
  policies: Type.Array(
    Type.Object({
      bank_id: Nullable(Id),
      label: Nullable(Type.String()),
      action: Type.Enum(POLICY_ACTIONS),
    }),
  ),
});

export async function policyRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const tags = ['review'];

  app.get(
    '/v1/policies',
    {
      config: { permission: 'cases:read' },
      schema: {
        tags,
        summary: 'Your match policies (none: the defaults apply)',
        response: { 200: Policies, ...errorResponses },
      },
    },
    async (request) => ({
      policies: (await ctx.review.policies(principalOf(request).orgId)).map((p) => ({
        bank_id: p.bankId,
        label: p.label,
        action: p.action,
      })),
    }),
  );

  app.put<{ Body: Static<typeof PoliciesBody> }>(
    '/v1/policies',
    {
      config: { permission: 'banks:write' },
      schema: {
        tags,
        summary: 'Replace your match policies',
        body: PoliciesBody,
        response: { 200: Policies, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const policies = await ctx.review.setPolicies(
        principal.label,
        principal.orgId,
        request.body.policies.map((p) => ({ bankId: p.bank_id, label: p.label, action: p.action })),
      );
      return { policies: policies.map((p) => ({ bank_id: p.bankId, label: p.label, action: p.action })) };
    },
  );
}
