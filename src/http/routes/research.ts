/**
 * Research access under /v1/research: thin adapters over ResearchService. Data owners need `research:own`,
 * researchers `research:query`; the service checks organisation, accreditation and grants.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../context.js';
import { ValidationError } from '../../core/errors.js';
import type { ProjectRecord, RequestStatus } from '../../store/research.js';
import { principalOf } from '../plugins/auth.js';
import { errorResponses, IdParams } from '../schemas/common.js';
import { budgetJson, datasetView, requestView, researcherView, resultView } from '../research-views.js';
import { AGGREGATE_KINDS } from '../../research/plan.js';
import { answerOf, Id, ItemsOf, Nullable, Time } from '../schemas/views.js';

const tags = ['research'];
const responses = { ...errorResponses, 409: errorResponses[400] };

const CreateDataset = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    public_keys: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String(), { maxItems: 255 }))),
    bounds: Type.Optional(
      Type.Record(Type.String(), Type.Array(Type.Number(), { minItems: 2, maxItems: 2 })),
    ),
    auto_approve: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
const Policy = Type.Object(
  {
    kinds: Type.Optional(Type.Array(Type.String(), { maxItems: 20 })),
    max_rho: Type.Optional(Type.Number({ minimum: 0 })),
    private_keys: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const LoadQuery = Type.Object(
  { twin: Type.Union([Type.Literal('private'), Type.Literal('mock')]) },
  { additionalProperties: false },
);
const MockBody = Type.Object(
  {
    users: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 })),
  },
  { additionalProperties: false },
);
const Accredit = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.String({ minLength: 3, maxLength: 320 }),
    principal: Type.String({ minLength: 5, maxLength: 40 }),
    accredited_until: Type.String({ minLength: 10, maxLength: 40 }),
  },
  { additionalProperties: false },
);
const BudgetParams = Type.Object(
  { id: Type.Integer({ minimum: 1 }), researcherId: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
const BudgetBody = Type.Object(
  { rho: Type.Number(), delta: Type.Optional(Type.Number()) },
  { additionalProperties: false },
);
const StatusQuery = Type.Object(
  {
    status: Type.Optional(
      Type.Union(['pending', 'approved', 'denied', 'released', 'failed'].map((s) => Type.Literal(s))),
    ),
  },
  { additionalProperties: false },
);
const DenyBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);
const ProjectBody = Type.Object(
  {
    dataset_id: Type.Integer({ minimum: 1 }),
    title: Type.String({ minLength: 1, maxLength: 200 }),
    purpose: Type.String({ minLength: 10, maxLength: 5000 }),
  },
  { additionalProperties: false },
);
const PlanBody = Type.Object(
  { plan: Type.Unknown(), project_id: Type.Optional(Type.Integer({ minimum: 1 })) },
  { additionalProperties: false },
);
const SampleQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
  { additionalProperties: false },
);

const DatasetSchema = Type.Object({
  id: Id,
  organisation_id: Id,
  name: Type.String(),
  description: Type.String(),
  privacy_unit: Type.String(),
  public_keys: Type.Record(Type.String(), Type.Array(Type.String()), {
    description: 'per categorical column, its public keys',
  }),
  bounds: Type.Record(Type.String(), Type.Array(Type.Number(), { minItems: 2, maxItems: 2 }), {
    description: 'per numeric column, its inclusive public bounds [low, high]',
  }),
  auto_approve: Type.Object({
    kinds: Type.Array(Type.Enum(AGGREGATE_KINDS)),
    max_rho: Type.Number(),
    private_keys: Type.Boolean(),
  }),
  private_rows: Type.Integer(),
  mock_rows: Type.Integer(),
  created_at: Time,
});
const ResearcherSchema = answerOf<ReturnType<typeof researcherView>>()(
  Type.Object({
    id: Id,
    organisation_id: Id,
    name: Type.String(),
    email: Type.String(),
    principal: Type.String(),
    accredited_by: Type.String(),
    accredited_until: Time,
    revoked_at: Nullable(Time),
    created_at: Time,
  }),
);
const BudgetSchema = answerOf<ReturnType<typeof budgetJson>>()(
  Type.Object({
    researcher_id: Id,
    dataset_id: Id,
    rho: Type.Number(),
    delta: Type.Number(),
    rho_spent: Type.Number(),
    delta_spent: Type.Number(),
    rho_remaining: Type.Number(),
    epsilon: Type.Object({ delta: Type.Number(), budget: Type.Number(), spent: Type.Number() }),
    updated_at: Time,
  }),
);
const ResultSchema = answerOf<ReturnType<typeof resultView>>()(
  Type.Object({
    kind: Type.Enum(AGGREGATE_KINDS),
    noisy: Type.Boolean({ description: 'false for exact runs (the mock)' }),
    columns: Type.Optional(Type.Array(Type.String())),
    rows: Type.Optional(Type.Array(Type.Object({ key: Type.Array(Type.String()), value: Type.Number() }))),
    value: Type.Optional(Type.Number()),
    metric: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    noise: Type.Array(
      Type.Object({
        statistic: Type.String(),
        mechanism: Type.Union([Type.Literal('discrete_laplace'), Type.Literal('discrete_gaussian')]),
        scale: Type.Number(),
        sensitivity: Type.Number(),
        interval95: Type.Number(),
      }),
    ),
    cost: Type.Object({ rho: Type.Number(), delta: Type.Number() }),
  }),
);
const RequestSchema = answerOf<ReturnType<typeof requestView>>()(
  Type.Object({
    id: Id,
    dataset_id: Id,
    researcher_id: Id,
    project_id: Nullable(Id),
    plan: Type.Unknown({ description: 'the query plan, as sent' }),
    plan_hash: Type.String(),
    cost: Type.Object({ rho: Type.Number(), delta: Type.Number() }),
    status: Type.Union([
      Type.Literal('pending'),
      Type.Literal('approved'),
      Type.Literal('denied'),
      Type.Literal('released'),
      Type.Literal('failed'),
    ]),
    reason: Nullable(Type.String()),
    decided_by: Nullable(Type.String()),
    decided_at: Nullable(Time),
    released_at: Nullable(Time),
    created_at: Time,
    result: Nullable(Type.Object(ResultSchema.properties, { description: 'once released' })),
  }),
);
const LedgerSchema = answerOf<ReturnType<typeof ledgerView>>()(
  Type.Object({
    budget: BudgetSchema,
    entries: Type.Array(
      Type.Object({ id: Id, request_id: Id, rho: Type.Number(), delta: Type.Number(), created_at: Time }),
    ),
  }),
);
const Rows = Type.Object({ rows: Type.Integer({ description: 'rows loaded' }) });
// Projects are answered as stored, field names included (camelCase, unlike the other research answers).
const ProjectSchema = answerOf<ProjectRecord>()(
  Type.Object({ id: Id, researcherId: Id, title: Type.String(), purpose: Type.String(), createdAt: Time }),
);
// Mock rows have the dataset's columns: they pass through as they are.
const MockRow = Type.Object({}, { additionalProperties: true, description: 'one mock event, by column' });

export async function researchRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const research = ctx.research;
  // Event files are streamed to the loader, not buffered (10 M rows is about a gigabyte of CSV). The entries
  // routes register the same pass-through parsers; register them only if nobody has.
  for (const type of ['text/csv', 'application/x-ndjson']) {
    if (!app.hasContentTypeParser(type))
      app.addContentTypeParser(type, (_request, payload, done) => done(null, payload));
  }

  // ------------------------------------------------------------------ data owners
  app.post<{ Body: Static<typeof CreateDataset> }>(
    '/v1/research/datasets',
    {
      config: { permission: 'research:own' },
      schema: {
        tags,
        summary: 'Register a dataset of exposure events',
        body: CreateDataset,
        response: { 201: DatasetSchema, ...responses },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const dataset = await research.createDataset(principalOf(request), {
        name: b.name,
        description: b.description,
        publicKeys: b.public_keys,
        bounds: b.bounds,
        autoApprove: b.auto_approve === undefined ? undefined : policyInput(b.auto_approve),
      });
      return reply.status(201).send(datasetView(dataset));
    },
  );

  app.get(
    '/v1/research/datasets',
    {
      config: { permission: 'research:own' },
      schema: {
        tags,
        summary: "Your organisation's research datasets",
        response: { 200: ItemsOf(DatasetSchema), ...responses },
      },
    },
    async (request) => ({ items: (await research.listOwnDatasets(principalOf(request))).map(datasetView) }),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/research/datasets/:id',
    {
      config: { permission: 'research:own' },
      schema: {
        tags,
        summary: 'A dataset',
        params: IdParams,
        response: { 200: DatasetSchema, ...responses },
      },
    },
    async (request) => datasetView(await research.ownDataset(principalOf(request), request.params.id)),
  );

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof Policy> }>(
    '/v1/research/datasets/:id/policy',
    {
      config: { permission: 'research:own' },
      schema: {
        tags,
        summary: 'Set what runs without review',
        params: IdParams,
        body: Policy,
        response: { 200: DatasetSchema, ...responses },
      },
    },
    async (request) =>
      datasetView(
        await research.updatePolicy(principalOf(request), request.params.id, policyInput(request.body)),
      ),
  );

  app.post<{ Params: Static<typeof IdParams>; Querystring: Static<typeof LoadQuery> }>(
    '/v1/research/datasets/:id/events',
    {
      config: { permission: 'research:own' },
      schema: {
        tags,
        summary: 'Load events (text/csv with a header, or application/x-ndjson), replacing the twin',
        params: IdParams,
        querystring: LoadQuery,
        response: { 200: Rows, ...responses },
      },
    },
    async (request) => {
      const type = String(request.headers['content-type'] ?? '');
      const format = type.startsWith('text/csv')
        ? 'csv'
        : type.startsWith('application/x-ndjson')
          ? 'jsonl'
          : null;
      if (!format)
        throw new ValidationError('send events as text/csv or application/x-ndjson', 'KAI_ERR_RESEARCH_ROW');
      const stream = request.body as NodeJS.ReadableStream;
      return research.loadStream(
        principalOf(request),
        request.params.id,
        request.query.twin,
        stream as never,
        format,
      );
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof MockBody> }>(
    '/v1/research/datasets/:id/mock',
    {
      config: { permission: 'research:own' },
      schema: {
        tags,
        summary: 'Generate the mock twin',
        params: IdParams,
        body: MockBody,
        response: { 200: Rows, ...responses },
      },
    },
    async (request) => research.generateMock(principalOf(request), request.params.id, request.body),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/research/datasets/:id/budgets',
    {
      config: { permission: 'research:own' },
      schema: {
        tags,
        summary: 'Budgets on a dataset',
        params: IdParams,
        response: { 200: ItemsOf(BudgetSchema), ...responses },
      },
    },
    async (request) => ({
      items: (await research.datasetBudgets(principalOf(request), request.params.id)).map(budgetJson),
    }),
  );

  app.put<{ Params: Static<typeof BudgetParams>; Body: Static<typeof BudgetBody> }>(
    '/v1/research/datasets/:id/budgets/:researcherId',
    {
      config: { permission: 'research:own' },
      schema: {
        tags,
        summary: "Set a researcher's budget (zCDP ρ, and δ for partition selection)",
        params: BudgetParams,
        body: BudgetBody,
        response: { 200: BudgetSchema, ...responses },
      },
    },
    async (request) =>
      budgetJson(
        await research.setBudget(
          principalOf(request),
          request.params.researcherId,
          request.params.id,
          request.body,
        ),
      ),
  );

  app.get<{ Params: Static<typeof BudgetParams> }>(
    '/v1/research/datasets/:id/ledger/:researcherId',
    {
      config: { permission: 'research:own' },
      schema: {
        tags,
        summary: "A researcher's ledger on a dataset",
        params: BudgetParams,
        response: { 200: LedgerSchema, ...responses },
      },
    },
    async (request) =>
      ledgerView(await research.ledger(principalOf(request), request.params.id, request.params.researcherId)),
  );

  app.post<{ Body: Static<typeof Accredit> }>(
    '/v1/research/researchers',
    {
      config: { permission: 'research:own' },
      schema: {
        tags,
        summary: 'Accredit a researcher (or renew)',
        body: Accredit,
        response: { 201: ResearcherSchema, ...responses },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const r = await research.registerResearcher(principalOf(request), {
        name: b.name,
        email: b.email,
        principal: b.principal,
        accreditedUntil: b.accredited_until,
      });
      return reply.status(201).send(researcherView(r));
    },
  );

  app.get(
    '/v1/research/researchers',
    {
      config: { permission: 'research:own' },
      schema: {
        tags,
        summary: 'Researchers you accredited',
        response: { 200: ItemsOf(ResearcherSchema), ...responses },
      },
    },
    async (request) => ({
      items: (await research.listResearchers(principalOf(request))).map(researcherView),
    }),
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/v1/research/researchers/:id',
    {
      config: { permission: 'research:own' },
      schema: {
        tags,
        summary: 'Revoke an accreditation',
        params: IdParams,
        response: { 204: Type.Null({ description: 'revoked' }), ...responses },
      },
    },
    async (request, reply) => {
      await research.revokeResearcher(principalOf(request), request.params.id);
      return reply.status(204).send();
    },
  );

  app.get<{ Querystring: Static<typeof StatusQuery> }>(
    '/v1/research/review/requests',
    {
      config: { permission: 'research:own' },
      schema: {
        tags,
        summary: 'Requests on your datasets',
        querystring: StatusQuery,
        response: { 200: ItemsOf(RequestSchema), ...responses },
      },
    },
    async (request) => ({
      items: (
        await research.ownerRequests(principalOf(request), request.query.status as RequestStatus | undefined)
      ).map(requestView),
    }),
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/v1/research/review/requests/:id/mock',
    {
      config: { permission: 'research:own' },
      schema: {
        tags,
        summary: "Run a request's plan on the mock",
        params: IdParams,
        response: { 200: ResultSchema, ...responses },
      },
    },
    async (request) => resultView(await research.ownerRunOnMock(principalOf(request), request.params.id)),
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/v1/research/review/requests/:id/approve',
    {
      config: { permission: 'research:own' },
      schema: {
        tags,
        summary: 'Approve: run on the private data, charge and release',
        params: IdParams,
        response: { 200: RequestSchema, ...responses },
      },
    },
    async (request) => requestView((await research.approve(principalOf(request), request.params.id)).request),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof DenyBody> }>(
    '/v1/research/review/requests/:id/deny',
    {
      config: { permission: 'research:own' },
      schema: {
        tags,
        summary: 'Deny with a reason',
        params: IdParams,
        body: DenyBody,
        response: { 200: RequestSchema, ...responses },
      },
    },
    async (request) =>
      requestView(await research.deny(principalOf(request), request.params.id, request.body.reason)),
  );

  // ------------------------------------------------------------------ researchers
  app.get(
    '/v1/research/me',
    {
      config: { permission: 'research:query' },
      schema: {
        tags,
        summary: 'Your accreditations, datasets granted and budgets',
        response: {
          200: Type.Object({
            researchers: Type.Array(ResearcherSchema),
            datasets: Type.Array(DatasetSchema),
            budgets: Type.Array(BudgetSchema),
          }),
          ...responses,
        },
      },
    },
    async (request) => {
      const o = await research.researcherOverview(principalOf(request));
      return {
        researchers: o.researchers.map(researcherView),
        datasets: o.datasets.map(datasetView),
        budgets: o.budgets.map(budgetJson),
      };
    },
  );

  app.post<{ Body: Static<typeof ProjectBody> }>(
    '/v1/research/projects',
    {
      config: { permission: 'research:query' },
      schema: {
        tags,
        summary: 'Start a project with a stated purpose',
        body: ProjectBody,
        response: { 201: ProjectSchema, ...responses },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await research.createProject(
            principalOf(request),
            request.body.dataset_id,
            request.body.title,
            request.body.purpose,
          ),
        ),
  );

  app.get(
    '/v1/research/projects',
    {
      config: { permission: 'research:query' },
      schema: { tags, summary: 'Your projects', response: { 200: ItemsOf(ProjectSchema), ...responses } },
    },
    async (request) => ({ items: await research.listProjects(principalOf(request)) }),
  );

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof SampleQuery> }>(
    '/v1/research/datasets/:id/mock/sample',
    {
      config: { permission: 'research:query' },
      schema: {
        tags,
        summary: 'Rows of the mock twin',
        params: IdParams,
        querystring: SampleQuery,
        response: { 200: ItemsOf(MockRow), ...responses },
      },
    },
    async (request) => ({
      items: await research.mockSample(principalOf(request), request.params.id, request.query.limit ?? 20),
    }),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof PlanBody> }>(
    '/v1/research/datasets/:id/mock/query',
    {
      config: { permission: 'research:query' },
      schema: {
        tags,
        summary: 'Run a plan on the mock twin (free, exact)',
        params: IdParams,
        body: PlanBody,
        response: { 200: ResultSchema, ...responses },
      },
    },
    async (request) =>
      resultView(await research.runOnMock(principalOf(request), request.params.id, request.body.plan)),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof PlanBody> }>(
    '/v1/research/datasets/:id/requests',
    {
      config: { permission: 'research:query' },
      schema: {
        tags,
        summary: 'Submit a plan for the private data',
        params: IdParams,
        body: PlanBody,
        response: { 201: RequestSchema, 202: RequestSchema, ...responses },
      },
    },
    async (request, reply) => {
      const outcome = await research.submit(principalOf(request), request.params.id, {
        plan: request.body.plan,
        ...(request.body.project_id !== undefined ? { projectId: request.body.project_id } : {}),
      });
      return reply
        .status(outcome.request.status === 'pending' ? 202 : 201)
        .send(requestView(outcome.request));
    },
  );

  app.get(
    '/v1/research/requests',
    {
      config: { permission: 'research:query' },
      schema: { tags, summary: 'Your requests', response: { 200: ItemsOf(RequestSchema), ...responses } },
    },
    async (request) => ({
      items: (await research.researcherRequests(principalOf(request))).map(requestView),
    }),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/research/requests/:id',
    {
      config: { permission: 'research:query' },
      schema: {
        tags,
        summary: 'A request and, once released, its result',
        params: IdParams,
        response: { 200: RequestSchema, ...responses },
      },
    },
    async (request) => requestView(await research.getRequest(principalOf(request), request.params.id)),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/research/datasets/:id/ledger',
    {
      config: { permission: 'research:query' },
      schema: {
        tags,
        summary: 'Your budget and ledger on a dataset',
        params: IdParams,
        response: { 200: LedgerSchema, ...responses },
      },
    },
    async (request) => ledgerView(await research.ledger(principalOf(request), request.params.id)),
  );
}

function policyInput(body: unknown): unknown {
  const b = (body ?? {}) as { kinds?: unknown; max_rho?: unknown; private_keys?: unknown };
  return {
    ...(b.kinds !== undefined ? { kinds: b.kinds } : {}),
    ...(b.max_rho !== undefined ? { maxRho: b.max_rho } : {}),
    ...(b.private_keys !== undefined ? { privateKeys: b.private_keys } : {}),
  };
}

function ledgerView(l: Awaited<ReturnType<AppContext['research']['ledger']>>) {
  return {
    budget: budgetJson(l.budget),
    entries: l.entries.map((e) => ({
      id: e.id,
      request_id: e.requestId,
      rho: e.rho,
      delta: e.delta,
      created_at: e.createdAt,
    })),
  };
}
