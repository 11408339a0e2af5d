/** Webhooks and the actions delivered to them (with the dead-letter view and each delivery attempt). */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../../context.js';
import { principalOf } from '../../plugins/auth.js';
import { errorResponses, IdParams } from '../../schemas/common.js';
import { answerOf, Id, ItemsOf, Nullable, Time } from '../../schemas/views.js';

const WebhookBody = Type.Object(
  { url: Type.String({ minLength: 8, maxLength: 2000 }) },
  { additionalProperties: false },
);

type Service = AppContext['webhooks'];
const WebhookSchema = Type.Object({ id: Id, url: Type.String(), enabled: Type.Boolean(), created_at: Time });
const NewWebhook = Type.Object({
  ...WebhookSchema.properties,
  secret: Type.String({ description: 'the signing secret: shown only here' }),
});
const ActionSchema = answerOf<
  Pick<
    Awaited<ReturnType<Service['actions']>>[number],
    | 'id'
    | 'type'
    | 'case_id'
    | 'status'
    | 'attempts'
    | 'next_attempt_at'
    | 'last_error'
    | 'created_at'
    | 'delivered_at'
  >
>()(
  Type.Object({
    id: Type.String(),
    type: Type.String(),
    case_id: Id,
    status: Type.String({ description: 'pending, delivered or dead' }),
    attempts: Type.Integer(),
    next_attempt_at: Time,
    last_error: Nullable(Type.String()),
    created_at: Time,
    delivered_at: Nullable(Time),
  }),
);
const DeliverySchema = answerOf<Awaited<ReturnType<Service['deliveries']>>[number]>()(
  Type.Object({
    id: Id,
    action_id: Type.String(),
    webhook_id: Id,
    attempt: Type.Integer(),
    status_code: Nullable(Type.Integer()),
    error: Nullable(Type.String()),
    duration_ms: Type.Number(),
    created_at: Time,
  }),
);

export async function webhookRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post<{ Body: Static<typeof WebhookBody> }>(
    '/v1/webhooks',
    {
      config: { permission: 'webhooks:manage' },
      schema: {
        tags: ['webhooks'],
        summary: 'Add a webhook; its signing secret is shown only in this response',
        body: WebhookBody,
        response: { 201: NewWebhook, ...errorResponses },
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
      schema: {
        tags: ['webhooks'],
        summary: 'Your webhooks',
        response: { 200: ItemsOf(WebhookSchema), ...errorResponses },
      },
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
      schema: {
        tags: ['webhooks'],
        summary: 'Remove a webhook',
        params: IdParams,
        response: { 204: Type.Null({ description: 'removed' }), ...errorResponses },
      },
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
        response: { 200: ItemsOf(ActionSchema), ...errorResponses },
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
      schema: {
        tags: ['webhooks'],
        summary: 'The delivery log (latest first)',
        response: { 200: ItemsOf(DeliverySchema), ...errorResponses },
      },
    },
    async (request) => ({
      items: await ctx.webhooks.deliveries(principalOf(request).orgId),
    }),
  );
}
