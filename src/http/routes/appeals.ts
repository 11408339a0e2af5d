/** Appeals: thin handlers over AppealsService (src/appeals/). */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { APPEAL_OUTCOMES, type AppealView } from '../../appeals/appeals-service.js';
import type { AppContext } from '../../context.js';
import { principalOf } from '../plugins/auth.js';
import { errorResponses, IdParams, PageQuery } from '../schemas/common.js';
import { answerOf, Id, Nullable, PageOf, Time } from '../schemas/views.js';

const Statement = Type.String({ minLength: 1, maxLength: 5000 });
const FileBody = Type.Object(
  {
    decision_id: Type.Optional(Type.Integer({ minimum: 1 })),
    statement_id: Type.Optional(Type.String({ format: 'uuid' })),
    appellant_id: Type.String({ minLength: 1, maxLength: 200 }),
    statement: Statement,
  },
  { additionalProperties: false },
);
const LinkBody = Type.Object(
  { token: Type.String({ minLength: 10, maxLength: 500 }), statement: Statement },
  { additionalProperties: false },
);
const ListQuery = Type.Object(
  {
    ...PageQuery.properties,
    status: Type.Optional(Type.Union(['open', ...APPEAL_OUTCOMES].map((s) => Type.Literal(s)))),
    overdue: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const DecisionBody = Type.Object(
  {
    outcome: Type.Union(APPEAL_OUTCOMES.map((o) => Type.Literal(o))),
    reply: Type.String({ minLength: 1, maxLength: 5000 }),
  },
  { additionalProperties: false },
);

const Appeal = answerOf<AppealView>()(
  Type.Object({
    id: Id,
    decision_id: Id,
    case_id: Id,
    appellant_id: Type.String(),
    channel: Type.String(),
    statement: Type.String(),
    status: Type.String(),
    original_decider: Type.String(),
    automated_detection: Type.Boolean(),
    assignee: Nullable(Type.String()),
    filed_at: Time,
    due_at: Time,
    overdue: Type.Boolean(),
    decided_at: Nullable(Time),
    decided_by: Nullable(Type.String()),
    reply: Nullable(Type.String()),
    restore_action_id: Nullable(Type.String({ description: 'the content.restore action, when reinstated' })),
  }),
);

export async function appealRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const tags = ['appeals'];
  const caller = (request: Parameters<typeof principalOf>[0]) => {
    const p = principalOf(request);
    return { orgId: p.orgId, label: p.label, userId: p.userId };
  };

  app.post<{ Body: Static<typeof FileBody> }>(
    '/v1/appeals',
    {
      config: { permission: 'appeals:file' },
      schema: {
        tags,
        summary: 'File an appeal on behalf of the affected user',
        body: FileBody,
        response: { 201: Appeal, ...errorResponses },
      },
    },
    async (request, reply) => reply.status(201).send(await ctx.appeals.file(caller(request), request.body)),
  );

  app.post<{ Body: Static<typeof LinkBody> }>(
    '/v1/appeals/by-link',
    {
      config: { permission: null },
      schema: {
        tags,
        summary: 'File an appeal with the signed token from the statement of reasons (no account needed)',
        body: LinkBody,
        response: { 201: Appeal, ...errorResponses },
      },
    },
    async (request, reply) => reply.status(201).send(await ctx.appeals.fileByLink(request.body)),
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/v1/appeals',
    {
      config: { permission: 'appeals:decide' },
      schema: {
        tags,
        summary: 'Appeals, filtered by status; overdue=true lists those past the 14-day reply',
        querystring: ListQuery,
        response: { 200: PageOf(Appeal), ...errorResponses },
      },
    },
    async (request) => {
      const page = await ctx.appeals.list(principalOf(request).orgId, request.query);
      return { items: page.items, next_cursor: page.nextCursor };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/appeals/:id',
    {
      config: { permission: 'appeals:decide' },
      schema: { tags, summary: 'One appeal', params: IdParams, response: { 200: Appeal, ...errorResponses } },
    },
    async (request) => ctx.appeals.get(principalOf(request).orgId, request.params.id),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: { assignee: string } }>(
    '/v1/appeals/:id/assign',
    {
      config: { permission: 'appeals:decide' },
      schema: {
        tags,
        summary: 'Assign an appeal to a reviewer other than the original decider (e.g. user:7)',
        params: IdParams,
        body: Type.Object(
          { assignee: Type.String({ minLength: 1, maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: { 200: Appeal, ...errorResponses },
      },
    },
    async (request) => ctx.appeals.assign(caller(request), request.params.id, request.body.assignee),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof DecisionBody> }>(
    '/v1/appeals/:id/decision',
    {
      config: { permission: 'appeals:decide' },
      schema: {
        tags,
        summary: 'Uphold or reverse, with a reasoned reply; a reversal sends content.restore',
        params: IdParams,
        body: DecisionBody,
        response: { 200: Appeal, ...errorResponses },
      },
    },
    async (request) => {
      const result = await ctx.appeals.decide(caller(request), request.params.id, request.body);
      void ctx.jobs.kick('outbox');
      return result;
    },
  );
}
