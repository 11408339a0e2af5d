/** Feedback on shared signals: give an opinion, read the opinions of your bank's entries, decide a dispute. */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../context.js';
import { FEEDBACK_KINDS } from '../../store/signal-feedback.js';
import { principalOf } from '../plugins/auth.js';
import { BankEntryParams, errorResponses, IdParams } from '../schemas/common.js';
import { EntryView } from '../schemas/views.js';
import { entryView } from '../views.js';

const tags = ['sharing'];

const FeedbackBody = Type.Object(
  {
    kind: Type.Union(FEEDBACK_KINDS.map((k) => Type.Literal(k))),
    reason: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);

const FeedbackAnswer = Type.Object({
  entry_id: Type.Integer(),
  status: Type.String({ description: '`disputed` once enough organisations said false positive' }),
  opinions: Type.Object({ confirm: Type.Integer(), false_positive: Type.Integer(), seen: Type.Integer() }),
});

const OwnFeedback = Type.Object({
  entry_id: Type.Integer(),
  status: Type.String(),
  opinions: FeedbackAnswer.properties.opinions,
  mine: Type.Union(
    [
      Type.Object({
        kind: Type.String(),
        reason: Type.Union([Type.String(), Type.Null()]),
        source: Type.String(),
        updated_at: Type.String(),
      }),
      Type.Null(),
    ],
    { description: "your organisation's opinion; null until it gives one" },
  ),
});

const FeedbackItem = Type.Object({
  entry_id: Type.Integer(),
  organisation_id: Type.Integer(),
  organisation_name: Type.String(),
  kind: Type.String(),
  reason: Type.Union([Type.String(), Type.Null()]),
  source: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
});

const DisputeBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('reinstate'), Type.Literal('retire')]),
    reason: Type.String({ minLength: 1, maxLength: 2000 }),
  },
  { additionalProperties: false },
);

export async function feedbackRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof FeedbackBody> }>(
    '/v1/signals/:id/feedback',
    {
      config: { permission: 'entries:write' },
      schema: {
        tags,
        summary:
          'Say what you think of a signal you can see (yours or shared with you): confirm, false_positive, seen',
        params: IdParams,
        body: FeedbackBody,
        response: { 200: FeedbackAnswer, ...errorResponses },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const { entry, opinions } = await ctx.feedback.give(p.label, p.orgId, request.params.id, request.body);
      return {
        entry_id: entry.id,
        status: entry.status,
        opinions: { confirm: opinions.confirm, false_positive: opinions.falsePositive, seen: opinions.seen },
      };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/signals/:id/feedback',
    {
      config: { permission: 'entries:read' },
      schema: {
        tags,
        summary: "Your organisation's opinion of a signal you can see, and how many organisations hold each",
        params: IdParams,
        response: { 200: OwnFeedback, ...errorResponses },
      },
    },
    async (request) => {
      const { entry, opinions, mine } = await ctx.feedback.mine(
        principalOf(request).orgId,
        request.params.id,
      );
      return {
        entry_id: entry.id,
        status: entry.status,
        opinions: { confirm: opinions.confirm, false_positive: opinions.falsePositive, seen: opinions.seen },
        mine: mine && {
          kind: mine.kind,
          reason: mine.reason,
          source: mine.source,
          updated_at: mine.updatedAt,
        },
      };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/banks/:id/feedback',
    {
      config: { permission: 'banks:read' },
      schema: {
        tags,
        summary:
          "Every organisation's opinion of a bank's signals, for its owner and moderators (newest first)",
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(FeedbackItem) }), ...errorResponses },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const items = await ctx.feedback.ofBank(p.orgId, request.params.id);
      return {
        items: items.map((f) => ({
          entry_id: f.entryId,
          organisation_id: f.orgId,
          organisation_name: f.orgName,
          kind: f.kind,
          reason: f.reason,
          source: f.source,
          created_at: f.createdAt,
          updated_at: f.updatedAt,
        })),
      };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/banks/:id/feedback/contributors',
    {
      config: { permission: 'banks:read' },
      schema: {
        tags,
        summary:
          "Opinions of a bank's signals per contributing organisation (signals, disputed, confirm / false positive / seen), most false positives first; for its owner and moderators",
        params: IdParams,
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                organisation_id: Type.Integer(),
                organisation_name: Type.String(),
                signals: Type.Integer(),
                disputed: Type.Integer(),
                confirm: Type.Integer(),
                false_positive: Type.Integer(),
                seen: Type.Integer(),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const items = await ctx.feedback.byContributor(principalOf(request).orgId, request.params.id);
      return {
        items: items.map((c) => ({
          organisation_id: c.orgId,
          organisation_name: c.orgName,
          signals: c.signals,
          disputed: c.disputed,
          confirm: c.confirm,
          false_positive: c.falsePositive,
          seen: c.seen,
        })),
      };
    },
  );

  app.post<{ Params: Static<typeof BankEntryParams>; Body: Static<typeof DisputeBody> }>(
    '/v1/banks/:id/entries/:entryId/dispute',
    {
      config: { permission: 'banks:write' },
      schema: {
        tags,
        summary:
          'Decide a disputed signal (bank owner or moderator): reinstate it (it matches again) or retire it',
        params: BankEntryParams,
        body: DisputeBody,
        response: { 200: EntryView, ...errorResponses },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const b = request.body;
      return entryView(
        await ctx.feedback.resolve(
          p.label,
          p.orgId,
          request.params.id,
          request.params.entryId,
          b.decision,
          b.reason,
        ),
      );
    },
  );
}
