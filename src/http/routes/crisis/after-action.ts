/**
 * After an incident: findings (what is to be done, by whom, by when) and the after-action report, as JSON or a
 * printable HTML page. Thin handlers over AfterActionService (src/crisis/after-action.ts). The full report needs
 * `crisis:read`; observers (crisis:observe alone) get the public summary.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../../context.js';
import { afterActionHtml } from '../../../crisis/after-action-html.js';
import { FINDING_STATUSES, REPORT_VARIANTS } from '../../../crisis/after-action.js';
import { errorResponses, IdParams } from '../../schemas/common.js';
import { AfterActionReportSchema, FindingSchema } from '../../schemas/crisis.js';
import { ItemsOf } from '../../schemas/views.js';
import { crisisCaller } from './incidents.js';

const tags = ['crisis'];
const strict = { additionalProperties: false } as const;
const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const DueAt = Type.String({ minLength: 10, maxLength: 40, description: 'ISO 8601 date-time' });

const FindingBody = Type.Object(
  {
    text: Type.String({ minLength: 1, maxLength: 4000 }),
    owner: Type.String({ minLength: 1, maxLength: 200 }),
    due_at: Type.Optional(DueAt),
  },
  strict,
);
const FindingPatch = Type.Object(
  {
    status: Type.Optional(literals(FINDING_STATUSES)),
    owner: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    due_at: Type.Optional(Type.Union([DueAt, Type.Null()])),
  },
  { ...strict, minProperties: 1 },
);
const ReportQuery = Type.Object({ variant: Type.Optional(literals(REPORT_VARIANTS)) }, strict);

export async function crisisAfterActionRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const afterAction = ctx.afterAction;

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof FindingBody> }>(
    '/v1/crisis/incidents/:id/findings',
    {
      config: { permission: 'crisis:coordinate' },
      schema: {
        tags,
        summary: 'Record a finding of the incident: what is to be done, its owner and due date',
        params: IdParams,
        body: FindingBody,
        response: { 201: FindingSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await afterAction.addFinding(crisisCaller(request), request.params.id, request.body)),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/crisis/incidents/:id/findings',
    {
      config: { permission: 'crisis:read' },
      schema: {
        tags,
        summary: "The incident's findings",
        params: IdParams,
        response: { 200: ItemsOf(FindingSchema), ...errorResponses },
      },
    },
    async (request) => ({ items: await afterAction.findings(crisisCaller(request), request.params.id) }),
  );

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof FindingPatch> }>(
    '/v1/crisis/findings/:id',
    {
      config: { permission: 'crisis:coordinate' },
      schema: {
        tags,
        summary: 'Close or reopen a finding, or change its owner or due date (null clears it)',
        params: IdParams,
        body: FindingPatch,
        response: { 200: FindingSchema, ...errorResponses },
      },
    },
    async (request) => afterAction.updateFinding(crisisCaller(request), request.params.id, request.body),
  );

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ReportQuery> }>(
    '/v1/crisis/incidents/:id/report',
    {
      config: { permission: 'crisis:observe' },
      schema: {
        tags,
        summary:
          'The after-action report, computed from the record (variant=public: no member names, contacts or evidence; observers get only that one)',
        params: IdParams,
        querystring: ReportQuery,
        response: { 200: AfterActionReportSchema, ...errorResponses },
      },
    },
    async (request) => afterAction.report(crisisCaller(request), request.params.id, request.query.variant),
  );

  const html = (reply: FastifyReply, body: string) =>
    reply
      // The page carries its own inline style and inline SVG charts; it runs no script at all.
      .header(
        'content-security-policy',
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
      )
      .type('text/html; charset=utf-8')
      .send(body);

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ReportQuery> }>(
    '/v1/crisis/incidents/:id/report.html',
    {
      config: { permission: 'crisis:observe' },
      schema: {
        tags,
        summary: 'The after-action report as a printable page with timeline and per-member charts',
        params: IdParams,
        querystring: ReportQuery,
        response: {
          200: {
            content: { 'text/html': { schema: Type.String({ description: 'a printable HTML page' }) } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) =>
      html(
        reply,
        afterActionHtml(
          await afterAction.report(crisisCaller(request), request.params.id, request.query.variant),
        ),
      ),
  );
}
