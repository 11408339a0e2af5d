/**
 * Subscriptions to external lists (src/sources/): an organisation follows a TCAP hash list or a CSV / JSON-lines
 * list into a read-only mirror bank. Org-scoped: an organisation never sees another's subscriptions.
 */
import type { FastifyInstance } from 'fastify';
import { MAX_BATCH_ITEMS } from '../../sharing/contributions.js';
import { ReceivedBatchView } from '../schemas/sharing.js';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../context.js';
import type { TickResult } from '../../sources/runner.js';
import type { SubscriptionStatus } from '../../sources/service.js';
import type { QuarantinedRecord } from '../../store/sources.js';
import { principalOf } from '../plugins/auth.js';
import { errorResponses, IdParams, PageQuery } from '../schemas/common.js';
import { answerOf, Id, Nullable, PageOf, Time } from '../schemas/views.js';

const Contribute = Type.Object(
  {
    contributions: Type.Array(
      Type.Object(
        {
          op: Type.Union([Type.Literal('add'), Type.Literal('retract')]),
          signal_type: Type.String({ maxLength: 40 }),
          value: Type.String({ maxLength: 100_000 }),
          labels: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 50 })),
          incident: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_BATCH_ITEMS },
    ),
  },
  { additionalProperties: false },
);

const tags = ['subscriptions'];

const CreateSubscription = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*$' }),
    kind: Type.String({ minLength: 1, maxLength: 40 }),
    config: Type.Record(Type.String({ maxLength: 64 }), Type.Unknown()),
    interval_seconds: Type.Optional(Type.Integer({ minimum: 1 })),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const UpdateSubscription = Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false });

export function subscriptionView(s: SubscriptionStatus) {
  const sub = s.subscription;
  return {
    id: sub.id,
    organisation_id: sub.orgId,
    name: sub.name,
    kind: s.kind,
    config: s.config,
    enabled: sub.enabled,
    interval_seconds: sub.intervalSeconds,
    bank_id: sub.bankId,
    checkpoint: sub.checkpoint,
    lag_records: s.lagRecords,
    lag_seconds: s.lagSeconds,
    last_fetch_at: sub.lastFetchAt,
    last_success_at: sub.lastSuccessAt,
    caught_up_at: sub.caughtUpAt,
    last_error: sub.lastError,
    last_error_at: sub.lastErrorAt,
    records_upserted: sub.recordsUpserted,
    records_deleted: sub.recordsDeleted,
    records_quarantined: sub.recordsQuarantined,
    created_by: sub.createdBy,
    created_at: sub.createdAt,
  };
}

export const quarantineView = (q: QuarantinedRecord) => ({
  id: q.id,
  reason: q.reason,
  raw: q.raw,
  created_at: q.createdAt,
});

export const tickView = (r: TickResult) => ({
  status: r.status,
  upserted: r.upserted,
  deleted: r.deleted,
  quarantined: r.quarantined,
  has_more: r.hasMore,
  ...(r.error ? { error: r.error } : {}),
});

const SubscriptionSchema = answerOf<ReturnType<typeof subscriptionView>>()(
  Type.Object({
    id: Id,
    organisation_id: Id,
    name: Type.String(),
    kind: Type.String(),
    config: Type.Record(Type.String(), Type.Unknown(), {
      description: 'the source settings (secrets left out)',
    }),
    enabled: Type.Boolean(),
    interval_seconds: Type.Integer(),
    bank_id: Nullable(Id),
    checkpoint: Nullable(Type.String()),
    lag_records: Nullable(Type.Integer()),
    lag_seconds: Nullable(Type.Number()),
    last_fetch_at: Nullable(Time),
    last_success_at: Nullable(Time),
    caught_up_at: Nullable(Time),
    last_error: Nullable(Type.String()),
    last_error_at: Nullable(Time),
    records_upserted: Type.Integer(),
    records_deleted: Type.Integer(),
    records_quarantined: Type.Integer(),
    created_by: Type.String(),
    created_at: Time,
  }),
);

const QuarantinedSchema = answerOf<ReturnType<typeof quarantineView>>()(
  Type.Object({ id: Id, reason: Type.String(), raw: Type.String(), created_at: Time }),
);

const TickSchema = answerOf<ReturnType<typeof tickView>>()(
  Type.Object({
    status: Type.Enum(['applied', 'unchanged', 'failed', 'disabled', 'superseded']),
    upserted: Type.Integer(),
    deleted: Type.Integer(),
    quarantined: Type.Integer(),
    has_more: Type.Boolean(),
    error: Type.Optional(Type.String()),
  }),
);

export async function subscriptionRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const service = ctx.subscriptions;
  const view = async (orgId: number, id: number) =>
    subscriptionView(service.status(await service.get(orgId, id)));

  app.get<{ Querystring: Static<typeof PageQuery> }>(
    '/v1/subscriptions',
    {
      config: { permission: 'banks:read' },
      schema: {
        tags,
        summary:
          'Your subscriptions to external lists, with checkpoint, lag, last error and quarantine count',
        querystring: PageQuery,
        response: { 200: PageOf(SubscriptionSchema), ...errorResponses },
      },
    },
    async (request) => {
      const page = await service.list(principalOf(request).orgId, request.query);
      const now = Date.now();
      return {
        items: page.items.map((s) => subscriptionView(service.status(s, now))),
        next_cursor: page.nextCursor,
      };
    },
  );

  app.post<{ Body: Static<typeof CreateSubscription> }>(
    '/v1/subscriptions',
    {
      config: { permission: 'banks:write' },
      schema: {
        tags,
        summary: 'Subscribe to an external list (kind tcap or list) into a new read-only mirror bank',
        body: CreateSubscription,
        response: { 201: SubscriptionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const created = await service.create(principal.label, principal.orgId, {
        name: request.body.name,
        kind: request.body.kind,
        config: request.body.config,
        intervalSeconds: request.body.interval_seconds,
        enabled: request.body.enabled,
      });
      return reply.status(201).send(subscriptionView(service.status(created)));
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/subscriptions/:id',
    {
      config: { permission: 'banks:read' },
      schema: {
        tags,
        summary: 'One subscription and its status',
        params: IdParams,
        response: { 200: SubscriptionSchema, ...errorResponses },
      },
    },
    async (request) => view(principalOf(request).orgId, request.params.id),
  );

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof UpdateSubscription> }>(
    '/v1/subscriptions/:id',
    {
      config: { permission: 'banks:write' },
      schema: {
        tags,
        summary: 'Pause or resume a subscription',
        params: IdParams,
        body: UpdateSubscription,
        response: { 200: SubscriptionSchema, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const updated = await service.setEnabled(
        principal.label,
        principal.orgId,
        request.params.id,
        request.body.enabled,
      );
      return subscriptionView(service.status(updated));
    },
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/v1/subscriptions/:id',
    {
      config: { permission: 'banks:write' },
      schema: {
        tags,
        summary: 'Unsubscribe: deletes the subscription and its mirror bank',
        params: IdParams,
        response: { 204: Type.Null({ description: 'removed' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      await service.delete(principal.label, principal.orgId, request.params.id);
      return reply.status(204).send();
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/v1/subscriptions/:id/sync',
    {
      config: { permission: 'banks:write' },
      schema: {
        tags,
        summary: 'Fetch now, page after page until the source has nothing more ready',
        params: IdParams,
        response: {
          200: Type.Object({ runs: Type.Array(TickSchema), subscription: SubscriptionSchema }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const orgId = principalOf(request).orgId;
      const runs = await service.syncNow(orgId, request.params.id);
      return { runs: runs.map(tickView), subscription: await view(orgId, request.params.id) };
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof Contribute> }>(
    '/v1/subscriptions/:id/contributions',
    {
      config: { permission: 'entries:write' },
      schema: {
        tags,
        summary:
          'Contribute signals to the hub collection a kaitiaki subscription follows: signed with this instance’s key ' +
          '(registered with the hub on first use), applied by the hub whole or not at all',
        params: IdParams,
        body: Contribute,
        response: {
          200: ReceivedBatchView,
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return service.contribute(
        principal.label,
        principal.orgId,
        request.params.id,
        request.body.contributions,
      );
    },
  );

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof PageQuery> }>(
    '/v1/subscriptions/:id/quarantine',
    {
      config: { permission: 'banks:read' },
      schema: {
        tags,
        summary: 'Records the source sent that were not stored, with the reason',
        params: IdParams,
        querystring: PageQuery,
        response: { 200: PageOf(QuarantinedSchema), ...errorResponses },
      },
    },
    async (request) => {
      const page = await service.quarantined(principalOf(request).orgId, request.params.id, request.query);
      return { items: page.items.map(quarantineView), next_cursor: page.nextCursor };
    },
  );
}
