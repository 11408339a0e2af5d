/**
 * Banks other organisations offered to yours. An offer changes nothing until you accept it; accepting chooses
 * what your matches on that bank do (default `review`: a person looks before anything is removed). You can
 * change that policy or leave the share at any time.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../context.js';
import { POLICY_ACTIONS } from '../../review/policy.js';
import { DEFAULT_SHARE_POLICY } from '../../store/banks.js';
import { principalOf } from '../plugins/auth.js';
import { IncomingShareView, ItemsOf } from '../schemas/views.js';
import { errorResponses } from '../schemas/common.js';
import { incomingShareView } from '../views.js';

const tags = ['banks'];
const BankParams = Type.Object({ bankId: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
const AcceptBody = Type.Object(
  { policy: Type.Optional(Type.Union(POLICY_ACTIONS.map((a) => Type.Literal(a)))) },
  { additionalProperties: false },
);

export async function shareRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/v1/shares/incoming',
    {
      config: { permission: 'banks:read' },
      schema: {
        tags,
        summary: 'Banks offered to your organisation, and the shares you accepted',
        response: { 200: ItemsOf(IncomingShareView), ...errorResponses },
      },
    },
    async (request) => ({
      items: (await ctx.banks.incoming(principalOf(request).orgId)).map(incomingShareView),
    }),
  );

  app.post<{ Params: Static<typeof BankParams>; Body: Static<typeof AcceptBody> }>(
    '/v1/shares/incoming/:bankId/accept',
    {
      config: { permission: 'banks:write' },
      schema: {
        tags,
        summary: 'Accept a bank offered to you (or change the policy of one you accepted)',
        params: BankParams,
        body: AcceptBody,
        response: { 200: IncomingShareView, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const policy = request.body?.policy ?? DEFAULT_SHARE_POLICY;
      const share = await ctx.bankWrites.acceptShare(
        principal.label,
        principal.orgId,
        request.params.bankId,
        policy,
      );
      return incomingShareView(share);
    },
  );

  app.delete<{ Params: Static<typeof BankParams> }>(
    '/v1/shares/incoming/:bankId',
    {
      config: { permission: 'banks:write' },
      schema: {
        tags,
        summary: 'Decline an offer or leave a share',
        params: BankParams,
        response: { 204: Type.Null({ description: 'removed' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      await ctx.bankWrites.leaveShare(principal.label, principal.orgId, request.params.bankId);
      return reply.status(204).send();
    },
  );
}
