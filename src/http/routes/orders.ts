/** Removal orders and referrals: thin handlers over OrdersService (src/orders/). */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../context.js';
import {
  ANNEX_III_GROUNDS,
  REFERRAL_OUTCOMES,
  SCRUTINY_OUTCOMES,
  SCRUTINY_REQUESTERS,
  type OrderView,
  type ReferralView,
} from '../../orders/orders-service.js';
import { principalOf } from '../plugins/auth.js';
import { errorResponses, IdParams, PageQuery } from '../schemas/common.js';
import { answerOf, Id, Nullable, PageOf, Time } from '../schemas/views.js';

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Item = Type.Object(
  {
    url: Type.Optional(Type.String({ minLength: 8, maxLength: 4000, pattern: '^https?://' })),
    external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
const Items = Type.Array(Item, { maxItems: 1000 });
const DateTime = Type.String({ minLength: 10, maxLength: 40 });
const Text = (max: number) => Type.String({ maxLength: max });

/** Annex I; the service names every missing field at once, so none is required by the schema. */
const OrderBody = Type.Object(
  {
    platform_org_id: Type.Optional(Type.Integer({ minimum: 1 })),
    reference: Type.Optional(Text(200)),
    authority_name: Type.Optional(Text(300)),
    member_state: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
    content_types: Type.Optional(Type.Array(Type.String({ maxLength: 1 }), { maxItems: 5 })),
    reasons: Type.Optional(Text(5000)),
    items: Type.Optional(Items),
    legal_basis: Type.Optional(Text(500)),
    signed_at: Type.Optional(DateTime),
    signature: Type.Optional(Text(10_000)),
    redress: Type.Optional(Text(2000)),
    non_disclosure_until: Type.Optional(DateTime),
    cross_border: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const AnswerBody = Type.Union([
  Type.Object(
    {
      annex: Type.Literal('II'),
      action: literals(['removed', 'disabled'] as const),
      actioned_at: Type.Optional(DateTime),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { annex: Type.Literal('III'), ground: literals(ANNEX_III_GROUNDS), detail: Type.Optional(Text(2000)) },
    { additionalProperties: false },
  ),
]);
const ReferralBody = Type.Object(
  {
    platform_org_id: Type.Integer({ minimum: 1 }),
    reference: Type.String({ minLength: 1, maxLength: 200 }),
    items: Type.Array(Item, { minItems: 1, maxItems: 1000 }),
    basis_cited: Type.String({ minLength: 3, maxLength: 500 }),
    reasons: Type.String({ minLength: 3, maxLength: 5000 }),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object(
  { ...PageQuery.properties, status: Type.Optional(Type.String({ maxLength: 20 })) },
  { additionalProperties: false },
);
const SettingsBody = Type.Object(
  {
    hosts: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 255, pattern: '^[a-z0-9.:-]+$' }), { maxItems: 100 }),
    ),
    appeal_window_days: Type.Optional(Type.Integer({ minimum: 183, maximum: 3650 })),
    publish_reports: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const ContentItemView = Type.Object({
  url: Type.Optional(Type.String()),
  external_id: Type.Optional(Type.String()),
});
const Order = answerOf<OrderView>()(
  Type.Object({
    id: Id,
    reference: Type.String(),
    authority_org_id: Id,
    platform_org_id: Id,
    authority_name: Type.String(),
    member_state: Type.String(),
    content_types: Type.Array(Type.String()),
    reasons: Type.String(),
    items: Type.Array(ContentItemView),
    legal_basis: Type.String(),
    signed_at: Time,
    redress: Type.String(),
    cross_border: Type.Boolean(),
    non_disclosure_until: Nullable(Time),
    non_disclosure_extended: Type.Boolean(),
    received_at: Time,
    clock_start: Time,
    deadline_at: Time,
    seconds_left: Nullable(
      Type.Number({
        description: 'seconds left on the clock, negative once overdue; null when it is not running',
      }),
    ),
    escalation: Nullable(
      Type.Union([Type.Literal('none'), Type.Literal('30m'), Type.Literal('50m'), Type.Literal('overdue')]),
    ),
    status: Type.String(),
    case_id: Nullable(Id),
    annex_ii: Nullable(
      Type.Object({ action: Type.String(), actioned_at: Time, answered_at: Time, late: Type.Boolean() }),
    ),
    annex_iii: Nullable(
      Type.Object({ ground: Type.String(), detail: Nullable(Type.String()), sent_at: Time }),
    ),
    scrutiny: Nullable(
      Type.Object({
        requested_by: Type.String(),
        requested_at: Time,
        deadline_at: Time,
        outcome: Nullable(Type.String()),
        decided_at: Nullable(Time),
      }),
    ),
    reinstated_at: Nullable(Time),
    reinstatement_reason: Nullable(Type.String()),
    preserve_until: Nullable(Time),
    preservation_extensions: Type.Array(
      Type.Object({ until: Time, requested_by: Type.String(), reason: Type.String(), at: Time }),
    ),
    preservation_purged_at: Nullable(Time),
  }),
);
const Referral = answerOf<ReferralView>()(
  Type.Object({
    id: Id,
    reference: Type.String(),
    authority_org_id: Id,
    platform_org_id: Id,
    items: Type.Array(ContentItemView),
    basis_cited: Type.String(),
    reasons: Type.String(),
    received_at: Time,
    outcome: Type.String(),
    basis_used: Nullable(Type.String()),
    outcome_at: Nullable(Time),
    case_id: Nullable(Id),
  }),
);
const Settings = answerOf<ReturnType<typeof settingsView>>()(
  Type.Object({
    hosts: Type.Array(Type.String()),
    appeal_window_days: Type.Integer(),
    publish_reports: Type.Boolean(),
  }),
);

export async function orderRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const tags = ['orders'];
  const caller = (request: Parameters<typeof principalOf>[0]) => {
    const p = principalOf(request);
    return { orgId: p.orgId, label: p.label };
  };

  app.post<{ Body: Static<typeof OrderBody> }>(
    '/v1/orders',
    {
      config: { permission: 'orders:issue' },
      schema: {
        tags,
        summary: 'Send a TCO removal order (Annex I); the one-hour clock starts on receipt',
        body: OrderBody,
        response: { 201: Order, ...errorResponses },
      },
    },
    async (request, reply) => reply.status(201).send(await ctx.orders.issue(caller(request), request.body)),
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/v1/orders',
    {
      config: { permission: 'orders:read' },
      schema: {
        tags,
        summary: 'Orders issued (authority) or received (platform), with their clocks',
        querystring: ListQuery,
        response: { 200: PageOf(Order), ...errorResponses },
      },
    },
    async (request) => {
      const page = await ctx.orders.list(caller(request), request.query);
      return { items: page.items, next_cursor: page.nextCursor };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/orders/:id',
    {
      config: { permission: 'orders:read' },
      schema: { tags, summary: 'One order', params: IdParams, response: { 200: Order, ...errorResponses } },
    },
    async (request) => ctx.orders.get(caller(request), request.params.id),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof AnswerBody> }>(
    '/v1/orders/:id/answer',
    {
      config: { permission: 'orders:answer' },
      schema: {
        tags,
        summary: 'Answer an order: Annex II (done) or Annex III (cannot comply)',
        params: IdParams,
        body: AnswerBody,
        response: { 200: Order, ...errorResponses },
      },
    },
    async (request) => {
      const b = request.body;
      const result =
        b.annex === 'II'
          ? await ctx.orders.confirm(caller(request), request.params.id, b)
          : await ctx.orders.cannotComply(caller(request), request.params.id, b);
      void ctx.jobs.kick('outbox');
      return result;
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: { at?: string } }>(
    '/v1/orders/:id/clock',
    {
      config: { permission: 'orders:read' },
      schema: {
        tags,
        summary:
          'Restart the clock after Annex III (platform: grounds ceased; authority: clarification sent)',
        params: IdParams,
        body: Type.Object({ at: Type.Optional(DateTime) }, { additionalProperties: false }),
        response: { 200: Order, ...errorResponses },
      },
    },
    async (request) => ctx.orders.restartClock(caller(request), request.params.id, request.body),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: { requested_by: (typeof SCRUTINY_REQUESTERS)[number] } }>(
    '/v1/orders/:id/scrutiny',
    {
      config: { permission: 'orders:read' },
      schema: {
        tags,
        summary: 'Record a request for scrutiny of a cross-border order (TCO Art. 4)',
        params: IdParams,
        body: Type.Object({ requested_by: literals(SCRUTINY_REQUESTERS) }, { additionalProperties: false }),
        response: { 200: Order, ...errorResponses },
      },
    },
    async (request) => ctx.orders.requestScrutiny(caller(request), request.params.id, request.body),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: { outcome: (typeof SCRUTINY_OUTCOMES)[number] } }>(
    '/v1/orders/:id/scrutiny/outcome',
    {
      config: { permission: 'orders:read' },
      schema: {
        tags,
        summary: 'Record the scrutiny decision; an infringement ends the order',
        params: IdParams,
        body: Type.Object({ outcome: literals(SCRUTINY_OUTCOMES) }, { additionalProperties: false }),
        response: { 200: Order, ...errorResponses },
      },
    },
    async (request) => ctx.orders.scrutinyOutcome(caller(request), request.params.id, request.body),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: { reason: string } }>(
    '/v1/orders/:id/reinstate',
    {
      config: { permission: 'orders:answer' },
      schema: {
        tags,
        summary: 'Reinstate content after the order fell; sends content.restore',
        params: IdParams,
        body: Type.Object(
          { reason: Type.String({ minLength: 3, maxLength: 2000 }) },
          { additionalProperties: false },
        ),
        response: { 200: Order, ...errorResponses },
      },
    },
    async (request) => {
      const result = await ctx.orders.reinstate(caller(request), request.params.id, request.body);
      void ctx.jobs.kick('outbox');
      return result;
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: { until: string } }>(
    '/v1/orders/:id/non-disclosure',
    {
      config: { permission: 'orders:issue' },
      schema: {
        tags,
        summary: 'Extend the Art. 11(3) non-disclosure once, by up to six weeks',
        params: IdParams,
        body: Type.Object({ until: DateTime }, { additionalProperties: false }),
        response: { 200: Order, ...errorResponses },
      },
    },
    async (request) => ctx.orders.extendNonDisclosure(caller(request), request.params.id, request.body),
  );

  app.post<{
    Params: Static<typeof IdParams>;
    Body: { until: string; reason: string; requested_by?: 'court' | 'competent_authority' };
  }>(
    '/v1/orders/:id/preservation',
    {
      config: { permission: 'orders:read' },
      schema: {
        tags,
        summary:
          'Extend the preservation of removed content and its data (TCO Art. 6(2)): the issuing authority, or the platform recording a court request',
        params: IdParams,
        body: Type.Object(
          {
            until: DateTime,
            reason: Type.String({ minLength: 3, maxLength: 2000 }),
            requested_by: Type.Optional(literals(['court', 'competent_authority'] as const)),
          },
          { additionalProperties: false },
        ),
        response: { 200: Order, ...errorResponses },
      },
    },
    async (request) => ctx.orders.extendPreservation(caller(request), request.params.id, request.body),
  );

  app.post<{ Body: Static<typeof ReferralBody> }>(
    '/v1/referrals',
    {
      config: { permission: 'orders:issue' },
      schema: {
        tags,
        summary: 'Send a voluntary referral (terms-of-service based)',
        body: ReferralBody,
        response: { 201: Referral, ...errorResponses },
      },
    },
    async (request, reply) => reply.status(201).send(await ctx.orders.refer(caller(request), request.body)),
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/v1/referrals',
    {
      config: { permission: 'orders:read' },
      schema: {
        tags,
        summary: 'Referrals sent (authority) or received (platform)',
        querystring: ListQuery,
        response: { 200: PageOf(Referral), ...errorResponses },
      },
    },
    async (request) => {
      const { status, ...rest } = request.query;
      const page = await ctx.orders.listReferrals(caller(request), { ...rest, outcome: status });
      return { items: page.items, next_cursor: page.nextCursor };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/referrals/:id',
    {
      config: { permission: 'orders:read' },
      schema: {
        tags,
        summary: 'One referral',
        params: IdParams,
        response: { 200: Referral, ...errorResponses },
      },
    },
    async (request) => ctx.orders.getReferral(caller(request), request.params.id),
  );

  app.post<{
    Params: Static<typeof IdParams>;
    Body: { outcome: (typeof REFERRAL_OUTCOMES)[number]; basis_used: string };
  }>(
    '/v1/referrals/:id/outcome',
    {
      config: { permission: 'orders:answer' },
      schema: {
        tags,
        summary: 'Record what the platform did with a referral and on which basis',
        params: IdParams,
        body: Type.Object(
          { outcome: literals(REFERRAL_OUTCOMES), basis_used: Type.String({ minLength: 3, maxLength: 500 }) },
          { additionalProperties: false },
        ),
        response: { 200: Referral, ...errorResponses },
      },
    },
    async (request) => ctx.orders.referralOutcome(caller(request), request.params.id, request.body),
  );

  app.get(
    '/v1/settings/recourse',
    {
      config: { permission: 'reports:read' },
      schema: {
        tags,
        summary: 'Hosts, appeal window and report publication',
        response: { 200: Settings, ...errorResponses },
      },
    },
    async (request) => settingsView(await ctx.orgSettings.get(principalOf(request).orgId)),
  );

  app.put<{ Body: Static<typeof SettingsBody> }>(
    '/v1/settings/recourse',
    {
      config: { permission: 'settings:manage' },
      schema: {
        tags,
        summary: 'Set hosts (orders for other hosts are refused), appeal window, report publication',
        body: SettingsBody,
        response: { 200: Settings, ...errorResponses },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const b = request.body;
      const settings = await ctx.accounts.updateSettings(
        p.label,
        p.orgId,
        {
          ...(b.hosts ? { hosts: b.hosts } : {}),
          ...(b.appeal_window_days !== undefined ? { appealWindowDays: b.appeal_window_days } : {}),
          ...(b.publish_reports !== undefined ? { publishReports: b.publish_reports } : {}),
        },
        b,
      );
      return settingsView(settings);
    },
  );
}

function settingsView(s: { hosts: string[]; appealWindowDays: number; publishReports: boolean }) {
  return { hosts: s.hosts, appeal_window_days: s.appealWindowDays, publish_reports: s.publishReports };
}
