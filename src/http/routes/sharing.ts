/**
 * Hash sharing, hub side: this instance's public key (pinned by members when they join), a shared bank's signed
 * change pages after a cursor, and the same as a push stream (server-sent events).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../context.js';
import { KaitiakiError } from '../../core/errors.js';
import { MAX_PAGE, waitForRecords } from '../../sharing/feed.js';
import { principalOf } from '../plugins/auth.js';
import { errorResponses, IdParams } from '../schemas/common.js';

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
        response: errorResponses,
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
