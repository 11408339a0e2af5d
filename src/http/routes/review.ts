import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../context.js';
import { NotFoundError, ValidationError } from '../../core/errors.js';
import { sniffContentType } from '../../hashing/content-type.js';
import { hashBuffer } from '../../hashing/hash-file.js';
import { POLICY_ACTIONS } from '../../review/policy.js';
import {
  assertIdempotencyKey,
  type CaseFilter,
  type CaseView,
  type SubmissionInput,
  type SubmissionResult,
} from '../../review/review-service.js';
import type { MatchEvidence } from '../../matching/match-service.js';
import { DECISIONS, GROUND_TYPES } from '../../review/statements.js';
import { principalOf } from '../plugins/auth.js';
import { errorResponses, IdParams, PageQuery, Signal } from '../schemas/common.js';
import { matchView } from '../views.js';
import { hashOptions, uploadedFile } from './hashing.js';
import { signalsOf } from '../../signals/registry.js';

const SubmissionBody = Type.Object(
  {
    external_id: Type.String({ minLength: 1, maxLength: 200 }),
    /** The signals, computed by the platform; or instead a `url` for Kaitiaki to fetch (allowed hosts only). */
    signals: Type.Optional(Type.Array(Signal, { minItems: 1, maxItems: 16 })),
    url: Type.Optional(Type.String({ minLength: 8, maxLength: 4000 })),
    uploader_id: Type.Optional(Type.String({ maxLength: 200 })),
    content_type: Type.Optional(
      Type.Union([Type.Literal('photo'), Type.Literal('video'), Type.Literal('other')]),
    ),
    context: Type.Optional(
      Type.Object(
        {
          surface: Type.Optional(Type.String({ maxLength: 100 })),
          time: Type.Optional(Type.String({ maxLength: 40 })),
          country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
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
const ReportBody = Type.Object(
  {
    external_id: Type.String({ minLength: 1, maxLength: 200 }),
    reporter_id: Type.Optional(Type.String({ maxLength: 200 })),
    category: Type.Optional(Type.String({ maxLength: 100 })),
    text: Type.Optional(Type.String({ maxLength: 5000 })),
  },
  { additionalProperties: false },
);
const AlertBody = Type.Object(
  {
    url: Type.String({ minLength: 8, maxLength: 4000, pattern: '^https?://' }),
    source: Type.String({ minLength: 1, maxLength: 100 }),
    external_id: Type.Optional(Type.String({ maxLength: 200 })),
    group: Type.Optional(Type.String({ maxLength: 200 })),
    category: Type.Optional(Type.String({ maxLength: 100 })),
    /** The feed's own grading of the alert (e.g. a TCAP tier), shown to reviewers. */
    tier: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
  },
  { additionalProperties: false },
);
const WebhookBody = Type.Object(
  { url: Type.String({ minLength: 8, maxLength: 2000 }) },
  { additionalProperties: false },
);
const StatementParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

function submissionView(result: SubmissionResult) {
  return {
    id: result.id,
    external_id: result.externalId,
    verdict: result.verdict,
    policy_action: result.action,
    case_id: result.caseId,
    replayed: result.replayed,
    created_at: result.createdAt,
    matches: result.matches.map(matchView),
  };
}

export async function reviewRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const tags = ['review'];

  app.post<{ Body: Static<typeof SubmissionBody> }>(
    '/v1/submissions',
    {
      config: { permission: 'submissions:write' },
      schema: {
        tags,
        summary: 'Submit content a user uploaded; the verdict comes back at once when signals are given',
        description:
          'JSON with signals, or multipart with a `file` part plus `external_id` (and optional `uploader_id`) fields. An `Idempotency-Key` header makes retries safe.',
        body: SubmissionBody,
        response: errorResponses,
      },
      attachValidation: true,
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const key = request.headers['idempotency-key'];
      if (Array.isArray(key)) throw new ValidationError('send one Idempotency-Key header');
      if (key !== undefined) assertIdempotencyKey(key);
      let input: SubmissionInput;
      if (request.isMultipart()) {
        // The same limits as the JSON body's schema.
        const file = await uploadedFile(request, { external_id: 200, uploader_id: 200 });
        const fields = file.fields;
        const externalId = fields.external_id;
        if (!externalId)
          throw new ValidationError('multipart submissions need an external_id field (before the file part)');
        if (sniffContentType(file.buffer.subarray(0, 512)) === 'video') {
          // Videos take seconds to hash: answered now (202, pending), verdict by webhook when done.
          const pending = await ctx.review.submitMedia(
            principal.label,
            principal.orgId,
            { externalId, uploaderId: fields.uploader_id, contentType: 'video', media: file.buffer },
            key,
          );
          return reply.status(pending.replayed ? 200 : 202).send(submissionView(pending));
        }
        const hashed = await hashBuffer(file.buffer, hashOptions(ctx));
        input = {
          externalId,
          signals: signalsOf(hashed),
          uploaderId: fields.uploader_id,
          contentType: hashed.type,
          media: file.buffer,
        };
      } else {
        if (request.validationError) throw request.validationError;
        const body = request.body;
        if ((body.signals === undefined) === (body.url === undefined)) {
          throw new ValidationError('send either signals or a url', 'KAI_ERR_SIGNALS_OR_URL');
        }
        if (body.url !== undefined) {
          const pending = await ctx.review.submitUrl(
            principal.label,
            principal.orgId,
            {
              externalId: body.external_id,
              url: body.url,
              uploaderId: body.uploader_id,
              contentType: body.content_type,
              context: body.context,
            },
            key,
          );
          return reply.status(pending.replayed ? 200 : 202).send(submissionView(pending));
        }
        input = {
          externalId: body.external_id,
          signals: body.signals!,
          uploaderId: body.uploader_id,
          contentType: body.content_type,
          context: body.context,
        };
      }
      const result = await ctx.review.submit(principal.label, principal.orgId, input, key);
      return reply.status(result.replayed ? 200 : 201).send(submissionView(result));
    },
  );

  app.post<{ Body: Static<typeof ReportBody> }>(
    '/v1/reports',
    {
      config: { permission: 'submissions:write' },
      schema: {
        tags,
        summary: "A user's report about content; joins the content's open case or opens one",
        body: ReportBody,
        response: errorResponses,
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const b = request.body;
      const result = await ctx.review.report(principal.label, principal.orgId, {
        kind: 'report',
        externalId: b.external_id,
        source: 'user',
        category: b.category,
        detail: { reporter_id: b.reporter_id ?? null, text: b.text ?? null },
      });
      return reply
        .status(201)
        .send({ report_id: result.reportId, case_id: result.caseId, new_case: result.newCase });
    },
  );

  app.post<{ Body: Static<typeof AlertBody> }>(
    '/v1/alerts',
    {
      config: { permission: 'submissions:write' },
      schema: {
        tags,
        summary:
          'A URL-level alert (e.g. from a TCAP-style feed) with the group or category it attributes; opens an urgent case',
        body: AlertBody,
        response: errorResponses,
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const b = request.body;
      const result = await ctx.review.report(principal.label, principal.orgId, {
        kind: 'alert',
        externalId: b.external_id,
        url: b.url,
        source: b.source,
        category: b.category,
        detail: { group: b.group ?? null, tier: b.tier ?? null },
      });
      return reply
        .status(201)
        .send({ alert_id: result.reportId, case_id: result.caseId, new_case: result.newCase });
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/submissions/:id',
    {
      config: { permission: 'submissions:read' },
      schema: { tags, summary: 'One submission and its verdict', params: IdParams, response: errorResponses },
    },
    async (request) => {
      const s = await ctx.review.getSubmission(principalOf(request).orgId, request.params.id);
      return {
        id: s.id,
        external_id: s.externalId,
        verdict: s.verdict,
        case_id: s.caseId,
        signals: s.signals,
        uploader_id: s.uploaderId,
        context: s.context,
        created_at: s.createdAt,
        has_media: s.mediaSha256 !== null,
        media_purged_at: s.mediaPurgedAt,
      };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/submissions/:id/media',
    {
      config: { permission: 'media:view' },
      schema: {
        tags,
        summary: 'The uploaded media of a submission (for reviewers; never cached)',
        params: IdParams,
        response: errorResponses,
      },
    },
    async (request, reply) => {
      const orgId = principalOf(request).orgId;
      const s = await ctx.review.getSubmission(orgId, request.params.id);
      if (!s.mediaSha256)
        throw new NotFoundError(
          s.mediaPurgedAt
            ? 'the media was deleted at the end of its retention period'
            : 'no media was sent with this submission',
        );
      const { bytes, type } = await ctx.media.get(orgId, s.mediaSha256);
      return reply
        .type(type)
        .header('cache-control', 'private, no-store')
        .header('x-content-type-options', 'nosniff')
        .send(bytes);
    },
  );

  app.get<{ Querystring: Static<typeof CaseQuery> }>(
    '/v1/cases',
    {
      config: { permission: 'cases:read' },
      schema: {
        tags,
        summary: 'The review queue (filter with ?status=open)',
        querystring: CaseQuery,
        response: errorResponses,
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const q = request.query;
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
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/cases/:id',
    {
      config: { permission: 'cases:read' },
      schema: {
        tags,
        summary: 'One case with its evidence and decisions',
        params: IdParams,
        response: errorResponses,
      },
    },
    async (request) => {
      const orgId = principalOf(request).orgId;
      const c = await ctx.review.getCase(orgId, request.params.id);
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
    },
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
        response: errorResponses,
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
        response: errorResponses,
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
        response: errorResponses,
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
        response: errorResponses,
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
        response: errorResponses,
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
        response: errorResponses,
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

  app.get<{ Querystring: { since?: string } }>(
    '/v1/statements',
    {
      config: { permission: 'cases:read' },
      schema: {
        tags,
        summary:
          "Every statement of reasons, as JSON lines in the DSA transparency database's form (streamed)",
        querystring: Type.Object(
          { since: Type.Optional(Type.String({ format: 'date-time' })) },
          { additionalProperties: false },
        ),
        response: errorResponses,
      },
    },
    async (request, reply) => {
      const orgId = principalOf(request).orgId;
      const stream = new PassThrough();
      reply.type('application/x-ndjson');
      (async () => {
        for await (const batch of ctx.review.statements(orgId, request.query.since)) {
          if (!stream.write(batch.map((b) => JSON.stringify(b)).join('\n') + '\n'))
            await once(stream, 'drain');
        }
        stream.end();
      })().catch((err: Error) => stream.destroy(err));
      return reply.send(stream);
    },
  );

  app.get<{ Params: Static<typeof StatementParams> }>(
    '/v1/statements/:id',
    {
      config: { permission: 'cases:read' },
      schema: {
        tags,
        summary: "A statement of reasons in the DSA transparency database's JSON form",
        params: StatementParams,
        response: errorResponses,
      },
    },
    async (request) => ctx.review.statement(principalOf(request).orgId, request.params.id),
  );

  app.get(
    '/v1/policies',
    {
      config: { permission: 'cases:read' },
      schema: { tags, summary: 'Your match policies (none: the defaults apply)', response: errorResponses },
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
      schema: { tags, summary: 'Replace your match policies', body: PoliciesBody, response: errorResponses },
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

  app.post<{ Body: Static<typeof WebhookBody> }>(
    '/v1/webhooks',
    {
      config: { permission: 'webhooks:manage' },
      schema: {
        tags: ['webhooks'],
        summary: 'Add a webhook; its signing secret is shown only in this response',
        body: WebhookBody,
        response: errorResponses,
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { webhook, secret } = await ctx.webhooks.create(
        principal.label,
        principal.orgId,
        request.body.url,
      );
      return reply.status(201).send({
        id: webhook.id,
        url: webhook.url,
        enabled: webhook.enabled,
        secret,
        created_at: webhook.createdAt,
      });
    },
  );

  app.get(
    '/v1/webhooks',
    {
      config: { permission: 'webhooks:manage' },
      schema: { tags: ['webhooks'], summary: 'Your webhooks', response: errorResponses },
    },
    async (request) => ({
      items: (await ctx.webhooks.list(principalOf(request).orgId)).map((w) => ({
        id: w.id,
        url: w.url,
        enabled: w.enabled,
        created_at: w.createdAt,
      })),
    }),
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/v1/webhooks/:id',
    {
      config: { permission: 'webhooks:manage' },
      schema: { tags: ['webhooks'], summary: 'Remove a webhook', params: IdParams, response: errorResponses },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      await ctx.webhooks.delete(principal.label, principal.orgId, request.params.id);
      return reply.status(204).send();
    },
  );

  app.get<{ Querystring: { status?: 'pending' | 'delivered' | 'dead' } }>(
    '/v1/actions',
    {
      config: { permission: 'webhooks:manage' },
      schema: {
        tags: ['webhooks'],
        summary: 'Actions and their delivery state (?status=dead for the dead-letter view)',
        querystring: Type.Object(
          {
            status: Type.Optional(
              Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')]),
            ),
          },
          { additionalProperties: false },
        ),
        response: errorResponses,
      },
    },
    async (request) => ({
      items: (await ctx.webhooks.actions(principalOf(request).orgId, request.query.status)).map((a) => ({
        id: a.id,
        type: a.type,
        case_id: a.case_id,
        status: a.status,
        attempts: a.attempts,
        next_attempt_at: a.next_attempt_at,
        last_error: a.last_error,
        created_at: a.created_at,
        delivered_at: a.delivered_at,
      })),
    }),
  );

  app.get(
    '/v1/webhooks/deliveries',
    {
      config: { permission: 'webhooks:manage' },
      schema: { tags: ['webhooks'], summary: 'The delivery log (latest first)', response: errorResponses },
    },
    async (request) => ({
      items: await ctx.webhooks.deliveries(principalOf(request).orgId),
    }),
  );
}

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
