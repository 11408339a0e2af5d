/** Transparency reports: the own organisation's (signed in), the published ones (public), and their JSON Schema. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../context.js';
import { REPORT_FORMATS } from '../../transparency/render.js';
import { REPORT_SCHEMA } from '../../transparency/report-schema.js';
import { parsePeriod } from '../../transparency/stats.js';
import { REPORT_KINDS } from '../../transparency/transparency-service.js';
import { principalOf } from '../plugins/auth.js';
import { errorResponses } from '../schemas/common.js';

const KindParams = Type.Object(
  { kind: Type.Union(REPORT_KINDS.map((k) => Type.Literal(k))) },
  { additionalProperties: false },
);
const PublicParams = Type.Object(
  { org: Type.Integer({ minimum: 1 }), kind: Type.Union(REPORT_KINDS.map((k) => Type.Literal(k))) },
  { additionalProperties: false },
);
const ReportQuery = Type.Object(
  {
    from: Type.String({ minLength: 10, maxLength: 40 }),
    to: Type.String({ minLength: 10, maxLength: 40 }),
    format: Type.Optional(Type.Union(REPORT_FORMATS.map((f) => Type.Literal(f)))),
  },
  { additionalProperties: false },
);

const Report = {
  200: {
    content: {
      'application/json': {
        schema: Type.Object(
          {},
          {
            additionalProperties: true,
            description: 'the report; its JSON Schema is at /public/transparency/report.schema.json',
          },
        ),
      },
      'text/csv': { schema: Type.String() },
      'text/html': { schema: Type.String({ description: 'a printable page' }) },
    },
  },
  ...errorResponses,
};

export async function transparencyRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const tags = ['transparency'];
  const send = (
    reply: FastifyReply,
    report: Record<string, unknown>,
    format: 'json' | 'csv' | 'html' = 'json',
  ) => {
    const { body, contentType } = ctx.transparency.render(report, format);
    // The printable page carries its own inline style (and inline SVG charts); it runs no script at all.
    if (format === 'html')
      reply.header(
        'content-security-policy',
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
      );
    return reply.type(contentType).send(body);
  };

  app.get<{ Params: Static<typeof KindParams>; Querystring: Static<typeof ReportQuery> }>(
    '/v1/transparency/:kind',
    {
      config: { permission: 'reports:read' },
      schema: {
        tags,
        summary:
          "The organisation's transparency report for a period, computed from the record (json, csv or html)",
        params: KindParams,
        querystring: ReportQuery,
        response: Report,
      },
    },
    async (request, reply) => {
      const { from, to, format } = request.query;
      const report = await ctx.transparency.build(
        principalOf(request).orgId,
        request.params.kind,
        parsePeriod(from, to),
      );
      return send(reply, report, format);
    },
  );

  app.get<{ Params: Static<typeof PublicParams>; Querystring: Static<typeof ReportQuery> }>(
    '/public/transparency/:org/:kind',
    {
      config: { permission: null },
      schema: {
        tags,
        summary: 'A published transparency report (only if the organisation chose to publish)',
        params: PublicParams,
        querystring: ReportQuery,
        response: Report,
      },
    },
    async (request, reply) => {
      const { from, to, format } = request.query;
      const report = await ctx.transparency.buildPublished(
        request.params.org,
        request.params.kind,
        parsePeriod(from, to),
      );
      return send(reply, report, format);
    },
  );

  app.get(
    '/public/transparency/report.schema.json',
    {
      config: { permission: null },
      schema: {
        tags,
        summary: 'JSON Schema of the reports',
        response: {
          200: {
            content: {
              'application/schema+json': { schema: Type.Object({}, { additionalProperties: true }) },
            },
          },
        },
      },
    },
    async (_request, reply) => reply.type('application/schema+json').send(REPORT_SCHEMA),
  );
}
