/**
 * Hash sharing, hub side: this instance's public key (pinned by members when they join), members registering their
 * instances' keys and sending signed contributions, a signal's provenance, a shared bank's signed change pages after
 * a cursor, and the same as a push stream (server-sent events).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../context.js';
import { KaitiakiError } from '../../core/errors.js';
import { MAX_PAGE, waitForRecords } from '../../sharing/feed.js';
import { principalOf } from '../plugins/auth.js';
import { errorResponses, IdParams } from '../schemas/common.js';
import { ReceivedBatchView } from '../schemas/sharing.js';

const tags = ['sharing'];

const ChangesQuery = Type.Object(
  {
    after: Type.Integer({
      minimum: 0,
      default: 0,
      description: 'the cursor: the last sequence number you have',
    }),
    limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: MAX_PAGE }),
    wait_ms: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 10_000,
        description: 'with nothing after the cursor, wait up to this long for a change (long poll)',
      }),
    ),
  },
  { additionalProperties: false },
);

const Join = Type.Object(
  {
    instance_id: Type.String({ minLength: 8, maxLength: 64, description: "the member instance's id" }),
    public_key: Type.String({
      maxLength: 1000,
      description: "the member instance's Ed25519 public key, SPKI PEM",
    }),
  },
  { additionalProperties: false },
);

const SignedBatchBody = Type.Object(
  {
    instance_id: Type.String({ maxLength: 64 }),
    payload: Type.String({
      maxLength: 1024 * 1024,
      description:
        'the exact JSON text the instance signed: {batch, collection_id, instance_id, signed_at, contributions: [{op: add|retract, signal_type, value, labels?, incident?}]}',
    }),
    signature: Type.String({ maxLength: 200, description: 'Ed25519 over the payload bytes, base64url' }),
  },
  { additionalProperties: false },
);

const EntryParams = Type.Object({ id: Type.Integer({ minimum: 1 }), entryId: Type.Integer({ minimum: 1 }) });

const Provenance = Type.Object({
  entry_id: Type.Integer(),
  contributor_organisation_id: Type.Integer(),
  items: Type.Array(
    Type.Object({
      op: Type.String(),
      outcome: Type.String(),
      batch: Type.String(),
      item: Type.Integer(),
      organisation_id: Type.Integer(),
      instance_id: Type.String(),
      signed_at: Type.String(),
      received_at: Type.String(),
      payload: Type.String(),
      signature: Type.String(),
      public_key: Type.String(),
    }),
  ),
  opinions: Type.Object({ confirm: Type.Integer(), false_positive: Type.Integer(), seen: Type.Integer() }),
});

/**
 * A change page. Records, batches and the proof pass through as the feed built them (typed as open values here):
 * members check digests over exactly what was signed, so a serialiser must neither drop nor re-type a field.
 */
const FeedPageView = Type.Object({
  collection: Type.Object({ id: Type.Integer(), name: Type.String(), owner_organisation_id: Type.Integer() }),
  instance: Type.Object({ id: Type.String(), public_key: Type.String() }),
  records: Type.Array(Type.Unknown()),
  batches: Type.Array(Type.Unknown()),
  next_after: Type.Integer(),
  more: Type.Boolean(),
  proof: Type.Unknown(),
});

const Instance = Type.Object({
  id: Type.String(),
  public_key: Type.String({ description: 'Ed25519, SPKI PEM' }),
});

export async function sharingRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Open push streams end when the server closes (a hijacked reply would otherwise hold the close up).
  const streams = new Set<AbortController>();
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.abort();
  });

  app.get(
    '/v1/sharing/instance',
    {
      config: { permission: 'banks:read' },
      schema: {
        tags,
        summary: "This instance's id and Ed25519 public key: what a member pins when it joins",
        response: { 200: Instance, ...errorResponses },
      },
    },
    async () => {
      const identity = await ctx.sharingFeed.identity();
      return { id: identity.id, public_key: identity.publicKey };
    },
  );

  app.post<{ Body: Static<typeof Join> }>(
    '/v1/sharing/join',
    {
      config: { permission: 'banks:write' },
      schema: {
        tags,
        summary:
          'Registers (or rotates) the Ed25519 key of an instance your organisation runs, so that it can send signed contributions',
        body: Join,
        response: { 200: Instance, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      await ctx.contributions.join(
        principal.label,
        principal.orgId,
        request.body.instance_id,
        request.body.public_key,
      );
      const identity = await ctx.sharingFeed.identity();
      return { id: identity.id, public_key: identity.publicKey };
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof SignedBatchBody> }>(
    '/v1/sharing/banks/:id/contributions',
    {
      config: { permission: 'entries:write' },
      schema: {
        tags,
        summary:
          'A batch of contributions signed by a member instance: checked against its registered key, then applied whole ' +
          'or not at all (403 KAI_ERR_INSTANCE_NOT_JOINED, 400 KAI_ERR_BAD_SIGNATURE, 429 with Retry-After); a batch sent ' +
          'again changes nothing',
        params: IdParams,
        body: SignedBatchBody,
        response: { 200: ReceivedBatchView, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return ctx.contributions.receive(principal.label, principal.orgId, request.params.id, request.body);
    },
  );

  app.get<{ Params: Static<typeof EntryParams> }>(
    '/v1/sharing/banks/:id/entries/:entryId/provenance',
    {
      config: { permission: 'entries:read' },
      schema: {
        tags,
        summary:
          'Who contributed a signal (organisation, instance, the signed batch as received) and who confirmed it',
        params: EntryParams,
        response: { 200: Provenance, ...errorResponses },
      },
    },
    async (request) =>
      ctx.contributions.provenance(principalOf(request).orgId, request.params.id, request.params.entryId),
  );

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ChangesQuery> }>(
    '/v1/sharing/banks/:id/changes',
    {
      config: { permission: 'banks:read' },
      schema: {
        tags,
        summary:
          'A shared bank’s changes after a cursor, oldest first: signed records (upserts and retraction tombstones), ' +
          'next_after for the next page, more=true while pages remain. 409 KAI_ERR_CURSOR_AHEAD for a cursor from the future',
        params: IdParams,
        querystring: ChangesQuery,
        response: { 200: FeedPageView, ...errorResponses },
      },
    },
    async (request) =>
      waitForRecords(
        () =>
          ctx.sharingFeed.page(
            principalOf(request).orgId,
            request.params.id,
            request.query.after,
            request.query.limit,
          ),
        (signal) => ctx.nextCommit(signal),
        request.query.wait_ms ?? 0,
      ),
  );

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ChangesQuery> }>(
    '/v1/sharing/banks/:id/stream',
    {
      config: { permission: 'banks:read' },
      schema: {
        tags,
        summary:
          'The same changes as a push stream (text/event-stream): one `page` event per page as soon as it commits; ' +
          'the event id is the page’s next_after, to resume from',
        params: IdParams,
        querystring: ChangesQuery,
        response: errorResponses,
      },
    },
    async (request, reply) => {
      const orgId = principalOf(request).orgId;
      // Refuse a bank the caller cannot see, or a cursor from the future, with a normal error before streaming.
      await ctx.sharingFeed.page(orgId, request.params.id, request.query.after, 1);
      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      out.write(': open\n\n'); // sends the headers now: the follower knows it is connected
      const stop = new AbortController();
      streams.add(stop);
      request.raw.once('close', () => stop.abort());
      const heartbeat = setInterval(() => out.write(': keep-alive\n\n'), 15_000);
      try {
        for await (const page of ctx.sharingFeed.follow(
          orgId,
          request.params.id,
          request.query.after,
          (signal) => ctx.nextCommit(signal),
          stop.signal,
        )) {
          out.write(`id: ${page.next_after}\nevent: page\ndata: ${JSON.stringify(page)}\n\n`);
        }
      } catch (err) {
        const code = err instanceof KaitiakiError ? err.code : 'KAI_ERR_INTERNAL';
        if (!(err instanceof KaitiakiError)) request.log.error({ err }, 'sharing stream failed');
        out.write(`event: error\ndata: ${JSON.stringify({ code, message: (err as Error).message })}\n\n`);
      } finally {
        streams.delete(stop);
        clearInterval(heartbeat);
        out.end();
      }
    },
  );
}
