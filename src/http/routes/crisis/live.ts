/** Crisis response between instances: the feed of incident banks members follow, and members' live numbers. */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../../context.js';
import { MAX_MINUTES_PER_REPORT } from '../../../crisis/live.js';
import { MAX_PAGE } from '../../../sharing/feed.js';
import { errorResponses, IdParams } from '../../schemas/common.js';
import { Id } from '../../schemas/views.js';
import { crisisCaller } from './incidents.js';

const tags = ['crisis'];
const strict = { additionalProperties: false } as const;

const FeedQuery = Type.Object(
  {
    after: Type.Integer({ minimum: 0, default: 0 }),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE })),
    wait_ms: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 10_000,
        description: 'with nothing after the cursor, wait up to this long for a change (long poll)',
      }),
    ),
  },
  strict,
);

const TelemetryBody = Type.Object(
  {
    minutes: Type.Array(
      Type.Object(
        {
          minute: Type.String({ minLength: 16, maxLength: 16, description: 'UTC minute, YYYY-MM-DDTHH:MM' }),
          matches: Type.Integer({ minimum: 0, maximum: 1e9 }),
          blocks: Type.Integer({ minimum: 0, maximum: 1e9 }),
        },
        strict,
      ),
      { maxItems: MAX_MINUTES_PER_REPORT },
    ),
    first_block_at: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])),
  },
  strict,
);

// Records, batches and the proof are signed: they pass through as they are (a field dropped or a number
// re-typed by the serialiser would break the signature a member checks).
const signed = (description: string) => Type.Object({}, { additionalProperties: true, description });
const FeedPageSchema = Type.Object({
  collections: Type.Array(
    Type.Object({ id: Id, incident_id: Id, title: Type.String(), exercise: Type.Boolean() }),
    { description: 'the incident banks this page may carry records of' },
  ),
  instance: Type.Object({ id: Type.String(), public_key: Type.String() }),
  records: Type.Array(
    signed('collection_id, seq, op (upsert or retract), signal_type, value, instance_id, contribution?, …'),
  ),
  next_after: Type.Integer({ description: 'the cursor for the next page' }),
  more: Type.Boolean(),
  batches: Type.Array(
    signed(
      'a contribution batch as its member signed it: id, organisation_id, instance_id, public_key, payload, signature',
    ),
  ),
  proof: signed(
    "the hub's signature over the page: instance_id, after, next_after, more, collections, digests, batches, signature",
  ),
});

export async function crisisLiveRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: Static<typeof FeedQuery> }>(
    '/v1/crisis/feed/changes',
    {
      config: { permission: 'crisis:read' },
      schema: {
        tags,
        summary:
          'Signed changes of every incident bank you accepted, after one cursor (members follow this with the ' +
          '`kaitiaki-crisis` source: a new incident needs no new subscription)',
        querystring: FeedQuery,
        response: { 200: FeedPageSchema, ...errorResponses },
      },
    },
    async (request) =>
      ctx.crisisLive.feedWaiting(
        crisisCaller(request),
        request.query.after,
        request.query.wait_ms ?? 0,
        request.query.limit,
      ),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof TelemetryBody> }>(
    '/v1/crisis/incidents/:id/telemetry',
    {
      config: { permission: 'crisis:read' },
      schema: {
        tags,
        summary:
          'Report your own numbers for an incident: per UTC minute, uploads matching its bank and those blocked, ' +
          'and your first block (totals: sending a minute again replaces it)',
        params: IdParams,
        body: TelemetryBody,
        response: {
          200: Type.Object({ minutes: Type.Integer({ description: 'minutes recorded' }) }),
          ...errorResponses,
        },
      },
    },
    async (request) => ctx.crisisLive.report(crisisCaller(request), request.params.id, request.body),
  );
}
