/** The review queue: cases, claims, the next case, assignment and decisions (one or many). */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../../context.js';
import { type CaseFilter, type CaseView } from '../../../review/review-service.js';
import type { MatchEvidence } from '../../../matching/match-service.js';
import { DECISIONS, GROUND_TYPES } from '../../../review/statements.js';
import { principalOf } from '../../plugins/auth.js';
import { errorResponses, IdParams, PageQuery } from '../../schemas/common.js';
import { answerOf, Id, Nullable, Time } from '../../schemas/views.js';

const DecisionBody = Type.Object(
  {
    decision: Type.Union(DECISIONS.map((d) => Type.Literal(d))),
    ground_type: Type.Union(GROUND_TYPES.map((g) => Type.Literal(g))),
    ground: Type.String({ minLength: 3, maxLength: 500 }),
    reason: Type.String({ minLength: 3, maxLength: 5000 }),
    add_to_bank_id: Type.Optional(Type.Integer({ minimum: 1 })),
    /** The case's `version` when the reviewer looked at it: a decision on a case changed since is refused (409). */
    version: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

const BulkDecisionBody = Type.Object(
  {
    cases: Type.Array(
      Type.Object(
        { id: Type.Integer({ minimum: 1 }), version: Type.Integer({ minimum: 1 }) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 100 },
    ),
    decision: Type.Union(DECISIONS.map((d) => Type.Literal(d))),
    ground_type: Type.Union(GROUND_TYPES.map((g) => Type.Literal(g))),
    ground: Type.String({ minLength: 3, maxLength: 500 }),
    reason: Type.String({ minLength: 3, maxLength: 5000 }),
  },
  { additionalProperties: false },
);

const CaseQuery = Type.Object(
  {
    ...PageQuery.properties,
    status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('decided')])),
    priority: Type.Optional(Type.Union([Type.Literal('urgent'), Type.Literal('normal')])),
    source: Type.Optional(Type.Union([Type.Literal('match'), Type.Literal('report'), Type.Literal('alert')])),
    bank_id: Type.Optional(Type.Integer({ minimum: 1 })),
    label: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    claimed_by: Type.Optional(
      Type.String({
        pattern: '^(me|none|user:[0-9]+|key:[0-9]+)$',
        description: '`me`, `none` (unclaimed), or a person (`user:4`)',
      }),
    ),
    external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

const NextQuery = Type.Object(
  {
    skip: Type.Optional(
      Type.String({ pattern: '^[0-9]{1,12}(,[0-9]{1,12}){0,99}$', description: 'case ids to pass over' }),
    ),
  },
  { additionalProperties: false },
);

// Evidence is stored with the case as the match recorded it; it passes through as stored.
const Evidence = Type.Unknown({
  description:
    'a match as recorded: signalType, signalIndex, distance, detail?, bank {id, name, orgId, purpose}, entry ' +
    '{id, labels, contributorOrgId, source, externalId, status}; one case answers each entry with its note and ' +
    "the bank's threshold",
});

function caseView(c: CaseView, names: Record<string, string> = {}) {
  return {
    id: c.id,
    submission_id: c.submissionId,
    external_id: c.externalId,
    status: c.status,
    priority: c.priority,
    due_at: c.dueAt,
    assignee: c.assignee,
    evidence: c.evidence,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    version: c.version,
    claimed_by: c.claimedBy,
    claimed_by_name: c.claimedBy ? (names[c.claimedBy] ?? c.claimedBy) : null,
    claim_expires_at: c.claimExpiresAt,
  };
}

/** A page of the queue, with each case's sources and the counts per status and priority under the filter. */
async function casePage(
  ctx: AppContext,
  principal: { orgId: number; label: string },
  q: Static<typeof CaseQuery>,
) {
  const filter: CaseFilter = {
    status: q.status,
    priority: q.priority,
    source: q.source,
    bankId: q.bank_id,
    label: q.label,
    claimedBy: q.claimed_by === 'me' ? principal.label : q.claimed_by,
    externalId: q.external_id,
  };
  const page = await ctx.review.listCases(principal.orgId, {
    ...filter,
    cursor: q.cursor,
    limit: q.limit,
  });
  const names = await ctx.review.displayNames(
    principal.orgId,
    page.items.flatMap((c) => (c.claimedBy ? [c.claimedBy] : [])),
  );
  const sources = await ctx.review.sourcesOf(principal.orgId, page.items);
  return {
    items: page.items.map((c) => ({ ...caseView(c, names), sources: sources.get(c.id) ?? [] })),
    next_cursor: page.nextCursor,
    counts: await ctx.review.countCases(principal.orgId, filter),
  };
}

/** One case with its evidence, submission, the uploader's other cases, reports and decisions. */
async function caseDetail(ctx: AppContext, orgId: number, id: number) {
  const c = await ctx.review.getCase(orgId, id);
  const decisions = await ctx.review.decisions(orgId, c.id);
  const submission = c.submissionId ? await ctx.review.getSubmission(orgId, c.submissionId) : null;
  const names = await ctx.review.displayNames(orgId, [
    ...(c.claimedBy ? [c.claimedBy] : []),
    ...decisions.map((d) => d.decided_by),
  ]);
  const evidence = c.evidence as MatchEvidence[];
  // Only entries of banks this organisation matched against (visible to it when the match was made).
  const notes = await ctx.review.entryNotes(evidence.map((e) => e.entry.id));
  return {
    ...caseView(c, names),
    evidence: evidence.map((e) => ({
      ...e,
      entry: { ...e.entry, note: notes.get(e.entry.id) ?? null },
      threshold: ctx.bankRules.threshold(e.bank.id, e.signalType),
    })),
    has_media: submission?.mediaSha256 != null,
    submission: submission && {
      id: submission.id,
      uploader_id: submission.uploaderId,
      context: submission.context,
      created_at: submission.createdAt,
      media_purged_at: submission.mediaPurgedAt,
    },
    uploader_history: submission?.uploaderId
      ? await ctx.review.uploaderHistory(orgId, submission.uploaderId, c.id)
      : [],
    reports: await ctx.review.reports(orgId, c.id),
    decisions: decisions.map((d) => ({
      id: d.id,
      decision: d.decision,
      ground_type: d.ground_type,
      ground: d.ground,
      reason: d.reason,
      automated: d.automated === 1,
      decided_by: d.decided_by,
      decided_by_name: names[d.decided_by] ?? d.decided_by,
      created_at: d.created_at,
    })),
  };
}

const CaseSchema = answerOf<ReturnType<typeof caseView>>()(
  Type.Object({
    id: Id,
    submission_id: Nullable(Id),
    external_id: Nullable(Type.String()),
    status: Type.String(),
    priority: Type.String(),
    due_at: Time,
    assignee: Nullable(Type.String()),
    evidence: Type.Array(Evidence),
    created_at: Time,
    updated_at: Time,
    version: Type.Integer({ description: 'name it when deciding: a decision on a changed case is refused' }),
    claimed_by: Nullable(Type.String()),
    claimed_by_name: Nullable(Type.String()),
    claim_expires_at: Nullable(Time),
  }),
);

const CasePageSchema = answerOf<Awaited<ReturnType<typeof casePage>>>()(
  Type.Object({
    items: Type.Array(
      Type.Object({
        ...CaseSchema.properties,
        sources: Type.Array(Type.String(), { description: 'match, report or alert' }),
      }),
    ),
    next_cursor: Nullable(Type.String()),
    counts: Type.Record(Type.String(), Type.Integer(), { description: 'cases per status and priority' }),
  }),
);

type CaseDetail = Awaited<ReturnType<typeof caseDetail>>;
const CaseDetailSchema = Type.Object({
  ...answerOf<Omit<CaseDetail, 'evidence'>>()(
    Type.Object({
      ...Type.Omit(CaseSchema, ['evidence']).properties,
      has_media: Type.Boolean(),
      submission: Nullable(
        Type.Object({
          id: Id,
          uploader_id: Nullable(Type.String()),
          context: Type.Record(Type.String(), Type.Unknown()),
          created_at: Time,
          media_purged_at: Nullable(Time),
        }),
      ),
      uploader_history: Type.Array(
        Type.Object({
          case_id: Id,
          status: Type.String(),
          external_id: Nullable(Type.String()),
          created_at: Time,
          decision: Nullable(Type.String()),
        }),
        { description: "the uploader's other cases, latest first" },
      ),
      reports: Type.Array(
        Type.Object({
          id: Id,
          kind: Type.String(),
          external_id: Nullable(Type.String()),
          url: Nullable(Type.String()),
          source: Type.String(),
          category: Nullable(Type.String()),
          detail: Type.Unknown(),
          created_at: Time,
        }),
      ),
      decisions: Type.Array(
        Type.Object({
          id: Id,
          decision: Type.String(),
          ground_type: Type.String(),
          ground: Type.String(),
          reason: Type.String(),
          automated: Type.Boolean(),
          decided_by: Type.String(),
          decided_by_name: Type.String(),
          created_at: Time,
        }),
      ),
    }),
  ).properties,
  evidence: Type.Array(Evidence),
});

const Decided = Type.Object({
  decision_id: Id,
  action_id: Nullable(Type.String({ description: 'the action sent to your webhooks, if any' })),
  statement_id: Nullable(Type.String({ description: 'the statement of reasons, if one is due' })),
});

const BulkResultSchema = Type.Object({
  decided: Type.Integer(),
  refused: Type.Integer(),
  results: Type.Array(
    Type.Union([
      Type.Object({
        id: Id,
        decided: Type.Literal(true),
        decision_id: Id,
        statement_id: Nullable(Type.String()),
      }),
      Type.Object({ id: Id, decided: Type.Literal(false), code: Type.String(), error: Type.String() }),
    ]),
  ),
});

export async function caseRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const tags = ['review'];

  app.get<{ Querystring: Static<typeof CaseQuery> }>(
    '/v1/cases',
    {
      config: { permission: 'cases:read' },
      schema: {
        tags,
        summary: 'The review queue (filter with ?status=open)',
        querystring: CaseQuery,
        response: { 200: CasePageSchema, ...errorResponses },
      },
    },
    async (request) => casePage(ctx, principalOf(request), request.query),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/cases/:id',
    {
      config: { permission: 'cases:read' },
      schema: {
        tags,
        summary: 'One case with its evidence and decisions',
        params: IdParams,
        response: { 200: CaseDetailSchema, ...errorResponses },
      },
    },
    async (request) => caseDetail(ctx, principalOf(request).orgId, request.params.id),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof DecisionBody> }>(
    '/v1/cases/:id/decision',
    {
      config: { permission: 'cases:decide' },
      schema: {
        tags,
        summary: 'Decide an open case: the action, statement of reasons and audit record are written with it',
        params: IdParams,
        body: DecisionBody,
        response: { 201: Decided, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const b = request.body;
      const result = await ctx.review.decide(principal.label, principal.orgId, request.params.id, {
        decision: b.decision,
        groundType: b.ground_type,
        ground: b.ground,
        reason: b.reason,
        addToBankId: b.add_to_bank_id,
        version: b.version,
      });
      return reply.status(201).send({
        decision_id: result.decisionId,
        action_id: result.actionId,
        statement_id: result.statementId,
      });
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: { assignee: string | null } }>(
    '/v1/cases/:id/assign',
    {
      config: { permission: 'cases:decide' },
      schema: {
        tags,
        summary: 'Assign a case to a reviewer (null to unassign)',
        params: IdParams,
        body: Type.Object(
          { assignee: Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()]) },
          { additionalProperties: false },
        ),
        response: { 200: CaseSchema, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return caseView(
        await ctx.review.assign(principal.label, principal.orgId, request.params.id, request.body.assignee),
      );
    },
  );

  app.post<{ Body: Static<typeof BulkDecisionBody> }>(
    '/v1/cases/decisions',
    {
      config: { permission: 'cases:decide' },
      schema: {
        tags,
        summary:
          'One decision on several cases (each with the version seen): each gets its own action and statement of reasons; answered per case',
        body: BulkDecisionBody,
        response: { 200: BulkResultSchema, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const b = request.body;
      const results = await ctx.review.decideMany(principal.label, principal.orgId, b.cases, {
        decision: b.decision,
        groundType: b.ground_type,
        ground: b.ground,
        reason: b.reason,
      });
      return {
        decided: results.filter((r) => r.decided).length,
        refused: results.filter((r) => !r.decided).length,
        results: results.map((r) =>
          r.decided
            ? { id: r.id, decided: true, decision_id: r.decisionId, statement_id: r.statementId }
            : { id: r.id, decided: false, code: r.code, error: r.error },
        ),
      };
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/v1/cases/:id/claim',
    {
      config: { permission: 'cases:decide' },
      schema: {
        tags,
        summary:
          'Claim an open case while you review it (10 minutes, renewed by claiming again); 409 while someone else has it',
        params: IdParams,
        response: { 200: CaseSchema, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const c = await ctx.review.claim(principal.label, principal.orgId, request.params.id);
      return caseView(c, await ctx.review.displayNames(principal.orgId, [principal.label]));
    },
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/v1/cases/:id/claim',
    {
      config: { permission: 'cases:decide' },
      schema: {
        tags,
        summary: 'Give back your claim on a case (someone else’s claim is left alone)',
        params: IdParams,
        response: { 200: CaseSchema, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return caseView(await ctx.review.release(principal.label, principal.orgId, request.params.id), {});
    },
  );

  app.post<{ Querystring: Static<typeof NextQuery> }>(
    '/v1/cases/next',
    {
      config: { permission: 'cases:decide' },
      schema: {
        tags,
        summary:
          'Claim the next case: the most urgent open case nobody else has claimed (204 when the queue is empty)',
        querystring: NextQuery,
        response: {
          200: CaseSchema,
          204: Type.Null({ description: 'the queue is empty' }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const skip = request.query.skip ? request.query.skip.split(',').map(Number) : [];
      const c = await ctx.review.next(principal.label, principal.orgId, skip);
      if (!c) return reply.status(204).send();
      return caseView(c, await ctx.review.displayNames(principal.orgId, [principal.label]));
    },
  );
}
