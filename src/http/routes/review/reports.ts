/** User reports and alerts: each opens a case (or joins the open case of the same content). */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../../context.js';
import { principalOf } from '../../plugins/auth.js';
import { errorResponses } from '../../schemas/common.js';
import { Id } from '../../schemas/views.js';

const ReportBody = Type.Object(
  {
    external_id: Type.String({ minLength: 1, maxLength: 200 }),
    reporter_id: Type.Optional(Type.String({ maxLength: 200 })),
    category: Type.Optional(Type.String({ maxLength: 100 })),
    text: Type.Optional(Type.String({ maxLength: 5000 })),
  },
  { additionalProperties: false },
);

const AlertBody = Type.Object(
  {
    url: Type.String({ minLength: 8, maxLength: 4000, pattern: '^https?://' }),
    source: Type.String({ minLength: 1, maxLength: 100 }),
    external_id: Type.Optional(Type.String({ maxLength: 200 })),
    group: Type.Optional(Type.String({ maxLength: 200 })),
    category: Type.Optional(Type.String({ maxLength: 100 })),
    /** The feed's own grading of the alert (e.g. a TCAP tier), shown to reviewers. */
    tier: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
  },
  { additionalProperties: false },
);

const NewCase = Type.Boolean({ description: "false: it joined the content's open case" });
const ReportOpened = Type.Object({ report_id: Id, case_id: Id, new_case: NewCase });
const AlertOpened = Type.Object({ alert_id: Id, case_id: Id, new_case: NewCase });

export async function reportRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const tags = ['review'];

  app.post<{ Body: Static<typeof ReportBody> }>(
    '/v1/reports',
    {
      config: { permission: 'submissions:write' },
      schema: {
        tags,
        summary: "A user's report about content; joins the content's open case or opens one",
        body: ReportBody,
        response: { 201: ReportOpened, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const b = request.body;
      const result = await ctx.review.report(principal.label, principal.orgId, {
        kind: 'report',
        externalId: b.external_id,
        source: 'user',
        category: b.category,
        detail: { reporter_id: b.reporter_id ?? null, text: b.text ?? null },
      });
      return reply
        .status(201)
        .send({ report_id: result.reportId, case_id: result.caseId, new_case: result.newCase });
    },
  );

  app.post<{ Body: Static<typeof AlertBody> }>(
    '/v1/alerts',
    {
      config: { permission: 'submissions:write' },
      schema: {
        tags,
        summary:
          'A URL-level alert (e.g. from a TCAP-style feed) with the group or category it attributes; opens an urgent case',
        body: AlertBody,
        response: { 201: AlertOpened, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const b = request.body;
      const result = await ctx.review.report(principal.label, principal.orgId, {
        kind: 'alert',
        externalId: b.external_id,
        url: b.url,
        source: b.source,
        category: b.category,
        detail: { group: b.group ?? null, tier: b.tier ?? null },
      });
      return reply
        .status(201)
        .send({ alert_id: result.reportId, case_id: result.caseId, new_case: result.newCase });
    },
  );
}
