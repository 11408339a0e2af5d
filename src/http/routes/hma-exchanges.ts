/**
 * HMA's exchange endpoints (`/c/exchanges*`, `/c/exchange/<name>*`) over Kaitiaki's subscriptions: an HMA
 * exchange is a subscription, its backing bank (of the same name) the subscription's read-only mirror bank.
 * The API names are the source kinds (`tcap`, `list`) and their HMA aliases (`tat` for TCAP, `local_file`).
 * HMA keeps credentials per API (`POST /c/exchanges/api/<api>`); Kaitiaki keeps them per exchange, in `api_json`
 * (a TCAP `token`), so that route answers 501 with that advice.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../context.js';
import { KaitiakiError, ValidationError } from '../../core/errors.js';
import { getSourceKind, SOURCE_KINDS } from '../../sources/registry.js';
import { parseTcapCheckpoint } from '../../sources/tcap.js';
import type { Subscription } from '../../store/sources.js';
import { principalOf } from '../plugins/auth.js';

const tags = ['hma'];
const HMA_NAME = /^[A-Z_][A-Z0-9_]*$/;

const ApiParams = Type.Object(
  { api: Type.String({ minLength: 1, maxLength: 40 }) },
  { additionalProperties: false },
);
const NameParams = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);
const CreateExchange = Type.Object(
  {
    bank: Type.String({ minLength: 1, maxLength: 100 }),
    api: Type.String({ minLength: 1, maxLength: 40 }),
    api_json: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown())),
    interval_seconds: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: true },
);
const UpdateExchange = Type.Object({ enabled: Type.Boolean() }, { additionalProperties: true });

const unix = (iso: string | null) => (iso ? Math.floor(Date.parse(iso) / 1000) : 0);

/** The time the checkpoint stands for: a TCAP record time, else when the list was last fetched whole. */
// The answers of HMA's exchange API, as HMA gives them.
const Message = Type.Object({ message: Type.String() });
const Names = Type.Array(Type.String());
// An exchange's settings are its source kind's own fields: they pass through beside name, api and enabled.
const Exchange = Type.Object(
  { name: Type.String(), api: Type.String(), enabled: Type.Boolean() },
  { additionalProperties: true, description: "the exchange's settings (api_json, secrets left out)" },
);
const FieldsSchema = Type.Record(
  Type.String(),
  Type.Object({ type: Type.String(), required: Type.Boolean(), description: Type.String() }),
);
const ExchangeStatus = Type.Object({
  last_fetch_time: Type.Integer({ description: 'Unix seconds; 0: never' }),
  checkpoint_time: Type.Integer({ description: 'Unix seconds; 0: none' }),
  success: Type.Boolean(),
  up_to_date: Type.Boolean(),
  fetched_items: Type.Integer(),
  last_error: Type.Union([Type.String(), Type.Null()]),
  lag_records: Type.Union([Type.Integer(), Type.Null()]),
  lag_seconds: Type.Union([Type.Number(), Type.Null()]),
  records_quarantined: Type.Integer(),
});

function checkpointTime(sub: Subscription): number {
  if (sub.kind === 'tcap' && sub.checkpoint) {
    try {
      return Math.floor(parseTcapCheckpoint(sub.checkpoint).ts);
    } catch {
      return 0;
    }
  }
  return sub.checkpoint ? unix(sub.lastSuccessAt) : 0;
}

export function registerHmaExchangeRoutes(app: FastifyInstance, ctx: AppContext): void {
  const service = ctx.subscriptions;

  async function allNames(orgId: number): Promise<Subscription[]> {
    const out: Subscription[] = [];
    let cursor: string | undefined;
    do {
      const page = await service.list(orgId, { cursor, limit: 1000 });
      out.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return out;
  }

  const exchangeJson = (sub: Subscription) => {
    const status = service.status(sub);
    return { ...status.config, name: sub.name, api: status.kind, enabled: sub.enabled };
  };

  app.get(
    '/c/exchanges/apis',
    {
      config: { permission: 'banks:read' },
      schema: {
        tags,
        summary: 'HMA: the exchange APIs (source kinds, with their HMA names) this instance has',
        response: { 200: Names },
      },
    },
    async () => [...SOURCE_KINDS.values()].flatMap((k) => [k.name, ...(k.aliases ?? [])]),
  );

  app.get<{ Params: Static<typeof ApiParams> }>(
    '/c/exchanges/api/:api',
    {
      config: { permission: 'banks:read' },
      schema: {
        tags,
        params: ApiParams,
        response: {
          200: Type.Object({
            supports_authentification: Type.Boolean(),
            has_set_authentification: Type.Boolean(),
          }),
        },
      },
    },
    async (request) => {
      const kind = getSourceKind(request.params.api);
      return {
        supports_authentification: kind.configFields.some((f) => f.secret),
        // Credentials live on each exchange (api_json), never instance-wide.
        has_set_authentification: false,
      };
    },
  );

  app.get<{ Params: Static<typeof ApiParams> }>(
    '/c/exchanges/api/:api/schema',
    {
      config: { permission: 'banks:read' },
      schema: {
        tags,
        params: ApiParams,
        response: { 200: Type.Object({ config_schema: FieldsSchema, credentials_schema: FieldsSchema }) },
      },
    },
    async (request) => {
      const kind = getSourceKind(request.params.api);
      const describe = (secret: boolean) =>
        Object.fromEntries(
          kind.configFields
            .filter((f) => (f.secret ?? false) === secret)
            .map((f) => [f.name, { type: f.type, required: f.required, description: f.description }]),
        );
      return { config_schema: describe(false), credentials_schema: describe(true) };
    },
  );

  app.post<{ Params: Static<typeof ApiParams> }>(
    '/c/exchanges/api/:api',
    { config: { permission: 'banks:write' }, schema: { tags, params: ApiParams } },
    async (request) => {
      getSourceKind(request.params.api);
      throw new KaitiakiError(
        'KAI_ERR_NOT_IMPLEMENTED',
        'Kaitiaki keeps exchange credentials per exchange: give them in api_json of POST /c/exchanges (a TCAP "token")',
        501,
      );
    },
  );

  app.get(
    '/c/exchanges',
    {
      config: { permission: 'banks:read' },
      schema: { tags, summary: 'HMA: the names of your exchanges', response: { 200: Names } },
    },
    async (request) => (await allNames(principalOf(request).orgId)).map((s) => s.name),
  );

  app.post<{ Body: Static<typeof CreateExchange> }>(
    '/c/exchanges',
    {
      config: { permission: 'banks:write' },
      schema: {
        tags,
        summary: 'HMA: create an exchange (a subscription) and its backing bank of the same name',
        body: CreateExchange,
        response: { 201: Message },
      },
    },
    async (request, reply) => {
      const { bank, api, api_json: config = {}, interval_seconds: intervalSeconds } = request.body;
      if (!HMA_NAME.test(bank))
        throw new ValidationError('exchange (bank) names must be UPPER_WITH_UNDERSCORE ([A-Z_][A-Z0-9_]*)');
      const principal = principalOf(request);
      await service.create(principal.label, principal.orgId, {
        name: bank,
        kind: api,
        config,
        intervalSeconds,
      });
      return reply.status(201).send({ message: 'Created successfully' });
    },
  );

  app.get<{ Params: Static<typeof NameParams> }>(
    '/c/exchange/:name',
    {
      config: { permission: 'banks:read' },
      schema: { tags, params: NameParams, response: { 200: Exchange } },
    },
    async (request) => exchangeJson(await service.getByName(principalOf(request).orgId, request.params.name)),
  );

  app.put<{ Params: Static<typeof NameParams>; Body: Static<typeof UpdateExchange> }>(
    '/c/exchange/:name',
    {
      config: { permission: 'banks:write' },
      schema: { tags, params: NameParams, body: UpdateExchange, response: { 200: Exchange } },
    },
    async (request) => {
      const principal = principalOf(request);
      const sub = await service.getByName(principal.orgId, request.params.name);
      return exchangeJson(
        await service.setEnabled(principal.label, principal.orgId, sub.id, request.body.enabled),
      );
    },
  );

  app.delete<{ Params: Static<typeof NameParams> }>(
    '/c/exchange/:name',
    {
      config: { permission: 'banks:write' },
      schema: { tags, params: NameParams, response: { 200: Message } },
    },
    async (request) => {
      const principal = principalOf(request);
      const sub = await service.getByName(principal.orgId, request.params.name);
      await service.delete(principal.label, principal.orgId, sub.id);
      return { message: 'Deleted successfully' };
    },
  );

  app.get<{ Params: Static<typeof NameParams> }>(
    '/c/exchange/:name/status',
    {
      config: { permission: 'banks:read' },
      schema: {
        tags,
        params: NameParams,
        summary: 'HMA: last fetch, checkpoint time, success (and more)',
        response: { 200: ExchangeStatus },
      },
    },
    async (request) => {
      const orgId = principalOf(request).orgId;
      const sub = await service.getByName(orgId, request.params.name);
      const status = service.status(sub);
      return {
        last_fetch_time: unix(sub.lastFetchAt),
        checkpoint_time: checkpointTime(sub),
        success: sub.lastFetchAt !== null && sub.lastError === null,
        up_to_date: sub.caughtUpAt !== null && sub.lastError === null && (status.lagRecords ?? 0) === 0,
        fetched_items: sub.bankId === null ? 0 : await ctx.entries.count(sub.bankId),
        last_error: sub.lastError,
        lag_records: status.lagRecords,
        lag_seconds: status.lagSeconds,
        records_quarantined: sub.recordsQuarantined,
      };
    },
  );
}
