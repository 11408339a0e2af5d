import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../context.js';
import { principalOf } from '../plugins/auth.js';
import { shareRightsOf } from '../../store/banks.js';
import { BankView, ItemsOf, PageOf, ShareView } from '../schemas/views.js';
import { errorResponses, IdParams, Labels, PageQuery } from '../schemas/common.js';
import { bankView, shareView } from '../views.js';

const BankName = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*$' });
const Thresholds = Type.Record(
  Type.String({ pattern: '^[a-z][a-z0-9_]*$' }),
  Type.Integer({ minimum: 0, maximum: 256 }),
);
const BankFields = {
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  default_labels: Type.Optional(Labels),
  thresholds: Type.Optional(Thresholds),
  enabled: Type.Optional(Type.Boolean()),
  sharing: Type.Optional(Type.Union([Type.Literal('private'), Type.Literal('shared')])),
  purpose: Type.Optional(
    Type.Union([Type.Literal('detect'), Type.Literal('suppress')], {
      description:
        'detect (default): matches lead to verdicts; suppress: content matching it never gets a verdict',
    }),
  ),
};
const CreateBank = Type.Object({ name: BankName, ...BankFields }, { additionalProperties: false });
const UpdateBank = Type.Object(
  { name: Type.Optional(BankName), ...BankFields },
  { additionalProperties: false, minProperties: 1 },
);
const ShareBody = Type.Object(
  {
    organisation_id: Type.Integer({ minimum: 1 }),
    rights: Type.Optional(
      Type.Union([Type.Literal('read'), Type.Literal('contribute'), Type.Literal('moderate')], {
        description:
          'read (default): match and see; contribute: add entries, retract your own; moderate: contribute, retract any entry, decide disputes, edit the taxonomy',
      }),
    ),
    can_contribute: Type.Optional(
      Type.Boolean({ description: 'older form of rights: true is contribute, false is read' }),
    ),
  },
  { additionalProperties: false },
);
const ShareParams = Type.Object(
  { id: Type.Integer({ minimum: 1 }), orgId: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);

function toInput(body: Static<typeof UpdateBank>) {
  return {
    ...(body.name !== undefined ? { name: body.name } : {}),
    ...(body.description !== undefined ? { description: body.description } : {}),
    ...(body.default_labels !== undefined ? { defaultLabels: body.default_labels } : {}),
    ...(body.thresholds !== undefined ? { thresholds: body.thresholds } : {}),
    ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
    ...(body.sharing !== undefined ? { sharing: body.sharing } : {}),
    ...(body.purpose !== undefined ? { purpose: body.purpose } : {}),
  };
}

export async function bankRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const tags = ['banks'];
  app.post<{ Body: Static<typeof CreateBank> }>(
    '/v1/banks',
    {
      config: { permission: 'banks:write' },
      schema: {
        tags,
        summary: 'Create a bank',
        body: CreateBank,
        response: { 201: BankView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const bank = await ctx.bankWrites.create(principal.label, principal.orgId, {
        ...toInput(request.body),
        name: request.body.name,
      });
      return reply.status(201).send(bankView(bank));
    },
  );

  app.get<{ Querystring: Static<typeof PageQuery> }>(
    '/v1/banks',
    {
      config: { permission: 'banks:read' },
      schema: {
        tags,
        summary: 'Banks you own and banks shared with you',
        querystring: PageQuery,
        response: { 200: PageOf(BankView), ...errorResponses },
      },
    },
    async (request) => {
      const page = await ctx.banks.list(principalOf(request).orgId, request.query);
      return { items: page.items.map(bankView), next_cursor: page.nextCursor };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/banks/:id',
    {
      config: { permission: 'banks:read' },
      schema: {
        tags,
        summary: 'One bank',
        params: IdParams,
        response: {
          200: Type.Intersect([BankView, Type.Object({ entry_count: Type.Integer({ minimum: 0 }) })]),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const bank = await ctx.banks.getVisible(principalOf(request).orgId, request.params.id);
      return { ...bankView(bank), entry_count: await ctx.entries.count(bank.id) };
    },
  );

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof UpdateBank> }>(
    '/v1/banks/:id',
    {
      config: { permission: 'banks:write' },
      schema: {
        tags,
        summary: 'Change a bank you own',
        params: IdParams,
        body: UpdateBank,
        response: { 200: BankView, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const bank = await ctx.bankWrites.update(
        principal.label,
        principal.orgId,
        request.params.id,
        toInput(request.body),
        request.body,
      );
      return bankView(bank);
    },
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/v1/banks/:id',
    {
      config: { permission: 'banks:write' },
      schema: {
        tags,
        summary: 'Delete a bank you own and all its entries',
        params: IdParams,
        response: { 204: Type.Null({ description: 'removed' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      await ctx.bankWrites.delete(principal.label, principal.orgId, request.params.id);
      return reply.status(204).send();
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/banks/:id/shares',
    {
      config: { permission: 'banks:read' },
      schema: {
        tags,
        summary: 'Who a bank you own is shared with',
        params: IdParams,
        response: { 200: ItemsOf(ShareView), ...errorResponses },
      },
    },
    async (request) => ({
      items: (await ctx.banks.shares(principalOf(request).orgId, request.params.id)).map(shareView),
    }),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof ShareBody> }>(
    '/v1/banks/:id/shares',
    {
      config: { permission: 'banks:write' },
      schema: {
        tags,
        summary: 'Share a bank you own with another organisation, with read, contribute or moderate rights',
        params: IdParams,
        body: ShareBody,
        response: { 200: ItemsOf(ShareView), ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { organisation_id: withOrg, rights, can_contribute: canContribute } = request.body;
      const shares = await ctx.bankWrites.share(
        principal.label,
        principal.orgId,
        request.params.id,
        withOrg,
        shareRightsOf(rights, canContribute),
      );
      return { items: shares.map(shareView) };
    },
  );

  app.delete<{ Params: Static<typeof ShareParams> }>(
    '/v1/banks/:id/shares/:orgId',
    {
      config: { permission: 'banks:write' },
      schema: {
        tags,
        summary: 'Stop sharing a bank with an organisation',
        params: ShareParams,
        response: { 200: ItemsOf(ShareView), ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const shares = await ctx.bankWrites.unshare(
        principal.label,
        principal.orgId,
        request.params.id,
        request.params.orgId,
      );
      return { items: shares.map(shareView) };
    },
  );
}
