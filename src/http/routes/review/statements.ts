/** Statements of reasons: the export (DSA Art. 17) and one statement. */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../../context.js';
import { principalOf } from '../../plugins/auth.js';
import { errorResponses } from '../../schemas/common.js';

const StatementParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

export async function statementRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const tags = ['review'];

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
        response: {
          200: {
            content: {
              'application/x-ndjson': {
                schema: Type.String({
                  description: 'one statement of reasons per line, as GET /v1/statements/{id}',
                }),
              },
            },
          },
          ...errorResponses,
        },
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
        response: {
          // Stored as it was sent to the transparency database: it passes through whole.
          200: Type.Object(
            {},
            { additionalProperties: true, description: "the DSA transparency database's statement fields" },
          ),
          ...errorResponses,
        },
      },
    },
    async (request) => ctx.review.statement(principalOf(request).orgId, request.params.id),
  );
}
