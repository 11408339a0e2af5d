/**
 * An HMA-compatible facade (Hasher-Matcher-Actioner 1.1's request and response shapes) so existing HMA
 * clients can point at Kaitiaki unchanged. On the main listener the API key still applies; the HMA listener
 * (src/http/hma-app.ts) serves these same routes without one, as its organisation. HMA's `video_md5` is our
 * `md5`. Media by URL (`?url=`) is fetched under the one fetch policy (KAITIAKI_FETCH_ALLOWED_HOSTS).
 * Exchanges are the subscriptions of src/sources/ (hma-exchanges.ts). Not covered: signal and content type
 * configuration (/c/signal_type*, /c/content_type), /dev and /ui.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Principal } from '../../auth/roles.js';
import type { AppContext } from '../../context.js';
import { ConflictError, NotFoundError, ValidationError } from '../../core/errors.js';
import { hashBuffer, type HashResult } from '../../hashing/hash-file.js';
import { formatVpdqSignal } from '../../hashing/vpdq/format.js';
import { fetchMedia } from '../../media/fetch-media.js';
import { bucketStatsView } from '../../matching/signal-index-set.js';
import { getSignalType, hmaBanksFor, hmaNameOf, signalsOf, typeFromHmaName } from '../../signals/registry.js';
import type { Bank } from '../../store/banks.js';
import { prepareEntry, type Entry, type HmaContentInfo } from '../../store/entries.js';
import { principalOf } from '../plugins/auth.js';
import { hashOptions } from './hashing.js';
import { registerHmaExchangeRoutes } from './hma-exchanges.js';

const tags = ['hma'];
const ourType = typeFromHmaName;
const hmaType = hmaNameOf;
const HMA_BANK_NAME = /^[A-Z_][A-Z0-9_]*$/;

function hmaHashes(result: HashResult): Record<string, string> {
  const out: Record<string, string> = {};
  // HMA answers "" for a photo too flat to match (quality < 50).
  if (result.pdq !== undefined) out.pdq = result.pdqUsable ? result.pdq : '';
  if (result.type === 'video' && result.md5) out.video_md5 = result.md5;
  if (result.vpdq) out.vpdq = formatVpdqSignal(result.vpdq);
  return out;
}

function bankJson(bank: Bank) {
  return { name: bank.name, matching_enabled_ratio: bank.enabledRatio };
}

// The answers of HMA's content API, as HMA gives them.
const HmaBank = Type.Object({ name: Type.String(), matching_enabled_ratio: Type.Number() });
const Message = Type.Object({ message: Type.String() });
const Added = Type.Object({
  id: Type.Integer({ description: 'the first entry added (0 when none was)' }),
  signals: Type.Record(Type.String(), Type.String(), { description: 'HMA signal type → value added' }),
});
const DisableUntil = Type.Number({
  description: '0: disabled; 1: enabled; later: disabled until then (Unix s)',
});
const Content = Type.Object({
  id: Type.Integer(),
  disable_until_ts: DisableUntil,
  original_media_uri: Type.Null(),
  bank: HmaBank,
  signals: Type.Optional(Type.Record(Type.String(), Type.String())),
  metadata: Type.Optional(Type.Object({}, { additionalProperties: true })),
  note: Type.Optional(Type.String()),
});
const Text = { content: { 'text/plain': { schema: Type.String() } } };
const Hashes = Type.Record(Type.String(), Type.String(), {
  description: 'HMA signal type → hash ("" for a photo too flat to match)',
});
const BankMatches = Type.Record(
  Type.String(),
  Type.Array(Type.Object({ bank_content_id: Type.Integer(), distance: Type.String() })),
  { description: 'bank name → its matching contents' },
);
// /m/lookup answers one signal's matches by bank, or (for media) per signal type: either shape passes through.
const Lookup = Type.Object(
  {},
  {
    additionalProperties: true,
    description: 'bank name → [{bank_content_id, distance}]; for media, per HMA signal type',
  },
);
const ContentUpdated = Type.Object({ id: Type.Integer(), disable_until_ts: DisableUntil, bank: HmaBank });

/**
 * HMA's coin flip: one draw in [0, 1) per lookup; a bank matches when its ratio is at least the draw. A `seed`
 * makes the draw reproducible (from its SHA-256, not Python's generator: the same seed gives the same answer
 * here, not the same draw as HMA); `bypass_coinflip` skips it (null).
 */
export function coinFlip(query: { seed?: string; bypass_coinflip?: boolean }): number | null {
  if (query.bypass_coinflip) return null;
  if (query.seed === undefined) return Math.random();
  return createHash('sha256').update(query.seed).digest().readUIntBE(0, 6) / 2 ** 48;
}

/** HMA's disable_until_ts for an entry: 1 enabled, 0 disabled, or the time it is disabled until. */
function disableUntil(entry: Entry): number {
  const stored = entry.hma?.disable_until_ts;
  if (entry.status === 'active')
    return stored !== undefined && stored > 1 && stored * 1000 <= Date.now() ? stored : 1;
  return stored !== undefined && stored > 1 ? stored : 0;
}

type HmaMetadata = NonNullable<HmaContentInfo['metadata']>;
const METADATA_KEYS = new Set(['content_id', 'content_uri', 'json']);

/**
 * HMA's content metadata ({content_id?, content_uri?, json?}) from what a client sent: `metadata` as an object
 * or a JSON text (in HMA's shape, or any JSON, kept as `json`), and Coop's `content_id` / `content_uri` fields.
 */
export function hmaMetadata(input: {
  metadata?: unknown;
  content_id?: unknown;
  content_uri?: unknown;
}): HmaMetadata | undefined {
  let raw = input.metadata;
  if (typeof raw === 'string') {
    if (raw.trim() === '') raw = undefined;
    else
      try {
        raw = JSON.parse(raw) as unknown;
      } catch {
        throw new ValidationError(
          'metadata must be JSON (an object such as {"content_id": "...", "json": {...}})',
        );
      }
  }
  const out: HmaMetadata = {};
  if (raw !== undefined && raw !== null) {
    const isHmaShape =
      typeof raw === 'object' &&
      !Array.isArray(raw) &&
      Object.keys(raw).length > 0 &&
      Object.keys(raw).every((k) => METADATA_KEYS.has(k));
    if (isHmaShape) Object.assign(out, raw);
    else out.json = raw;
  }
  if (input.content_id !== undefined) out.content_id = input.content_id as string;
  if (input.content_uri !== undefined) out.content_uri = input.content_uri as string;
  for (const key of ['content_id', 'content_uri'] as const) {
    const value = out[key];
    if (value !== undefined && (typeof value !== 'string' || value.length > 2048))
      throw new ValidationError(`metadata ${key} must be a string of at most 2048 characters`);
  }
  if (Object.keys(out).length === 0) return undefined;
  if (JSON.stringify(out).length > 64 * 1024)
    throw new ValidationError('metadata is too large (64 KiB of JSON at most)');
  return out;
}

/** The one file part of a multipart body and every text field, whether sent before or after the file. */
async function readForm(
  request: FastifyRequest,
): Promise<{ field: string; buffer: Buffer; fields: Record<string, string> }> {
  if (!request.isMultipart())
    throw new ValidationError(
      'send the media as multipart/form-data with one file part (field photo or video), or give ?url=',
      'KAI_ERR_NOT_MULTIPART',
    );
  let file: { field: string; buffer: Buffer } | undefined;
  const fields: Record<string, string> = {};
  for await (const part of request.parts()) {
    if (part.type === 'file') file = { field: part.fieldname, buffer: await part.toBuffer() };
    else if (typeof part.value === 'string') fields[part.fieldname] = part.value;
  }
  if (!file) throw new ValidationError('the multipart body has no file part', 'KAI_ERR_NO_FILE');
  return { ...file, fields };
}

const CONTENT_TYPES = new Set(['photo', 'video']);

const LookupQuery = Type.Object(
  {
    signal_type: Type.Optional(Type.String({ maxLength: 32 })),
    signal: Type.Optional(Type.String({ maxLength: 8_000_000 })),
    banks: Type.Optional(Type.String({ maxLength: 10_000 })),
    include_distance: Type.Optional(Type.Boolean()),
    seed: Type.Optional(Type.String({ maxLength: 1000 })),
    bypass_coinflip: Type.Optional(Type.Boolean()),
    url: Type.Optional(Type.String({ maxLength: 8000 })),
    content_type: Type.Optional(Type.String({ maxLength: 32 })),
    types: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
const UrlQuery = Type.Object(
  {
    url: Type.Optional(Type.String({ maxLength: 8000 })),
    content_type: Type.Optional(Type.String({ maxLength: 32 })),
    types: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
/** Adding content: the media by URL (or an upload), and HMA's metadata, which may come in the query too. */
const AddContentQuery = Type.Object(
  {
    url: Type.Optional(Type.String({ maxLength: 8000 })),
    content_type: Type.Optional(Type.String({ maxLength: 32 })),
    types: Type.Optional(Type.String({ maxLength: 1000 })),
    metadata: Type.Optional(Type.String({ maxLength: 64 * 1024 })),
    content_id: Type.Optional(Type.String({ maxLength: 2048 })),
    content_uri: Type.Optional(Type.String({ maxLength: 2048 })),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
const ContentQuery = Type.Object(
  {
    include_signals: Type.Optional(Type.Boolean()),
    include_metadata: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const BankParams = Type.Object(
  { bank: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);
const ContentParams = Type.Object(
  { bank: Type.String({ minLength: 1, maxLength: 100 }), id: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
const CreateBank = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    enabled_ratio: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const UpdateBank = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    enabled_ratio: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const UpdateContent = Type.Object(
  {
    disable_until_ts: Type.Optional(Type.Integer({ minimum: 0 })),
    note: Type.Optional(Type.String({ maxLength: 255 })),
  },
  { additionalProperties: false },
);

/**
 * The facade's routes as a plugin, registered by both listeners: the main one (routes/index.ts, behind the
 * API-key hook) and the HMA listener (hma-app.ts, which sets its organisation's principal on every request).
 * In its own scope, an empty JSON body is no body: HMA (Flask) accepts `Content-Type: application/json` with
 * nothing after it, as clients send for `POST /c/bank/NAME/content?url=`.
 */
export async function hmaRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(async (scope) => {
    const json = scope.getDefaultJsonParser('error', 'error');
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') return done(null, undefined);
      return json(request, text, done);
    });
    registerHmaRoutes(scope, ctx);
  });
}

function registerHmaRoutes(app: FastifyInstance, ctx: AppContext): void {
  /** Fetches `url` under the fetch policy and hashes it, as HMA's hash_media does. */
  const hashUrl = async (query: { url?: string; content_type?: string }): Promise<HashResult> => {
    if (!query.url) throw new ValidationError('url is required (or upload the file with POST)');
    if (query.content_type !== undefined && !CONTENT_TYPES.has(query.content_type))
      throw new ValidationError('content_type must be photo or video');
    const buffer = await fetchMedia(query.url, {
      allowedHosts: ctx.config.fetch.allowedHosts,
      maxBytes: ctx.config.http.maxUploadBytes,
    });
    const hashed = await hashBuffer(buffer, hashOptions(ctx));
    if (query.content_type !== undefined && query.content_type !== hashed.type)
      throw new ValidationError(`the media at the URL is a ${hashed.type}, not a ${query.content_type}`);
    return hashed;
  };
  /** `types=pdq,video_md5` keeps only those signal types. */
  const onlyTypes = <T>(out: Record<string, T>, types: string | undefined): Record<string, T> => {
    if (!types) return out;
    const wanted = new Set(types.split(',').map((t) => t.trim()));
    return Object.fromEntries(Object.entries(out).filter(([name]) => wanted.has(name)));
  };
  /** The signals of hashed media that HMA banks and looks up: pdq, vpdq, and video_md5 for videos. */
  const bankable = (hashed: HashResult) => signalsOf(hashed).filter((s) => hmaBanksFor(s.type, hashed.type));
  /** The ids of the banks named in `banks=A,B`; as HMA, a name that is no bank of yours just matches nothing. */
  const bankNames = async (orgId: number, names: string | undefined): Promise<Set<number> | undefined> => {
    if (!names) return undefined;
    const ids = new Set<number>();
    for (const name of names
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean)) {
      try {
        ids.add((await ctx.banks.getVisibleByName(orgId, name)).id);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    return ids;
  };
  /**
   * {BANK_NAME: [{bank_content_id, distance}]} for one signal. `flip` is the lookup's one coin flip: a bank
   * matches when its ratio is at least the flip (null: no flip).
   */
  const lookup = (
    orgId: number,
    type: string,
    value: string,
    banks: Set<number> | undefined,
    flip: number | null,
  ) => {
    const byBank: Record<string, { bank_content_id: number; distance: string }[]> = {};
    // As HMA, bypass_coinflip lets every bank match, a disabled one (ratio 0) included.
    const includeDisabledBanks = flip === null;
    for (const m of ctx.matcher.rawMatches(orgId, [{ type, value }], { banks, includeDisabledBanks })) {
      const bank = ctx.bankRules.bank(m.bankId);
      if (flip !== null && !(bank && bank.enabledRatio >= flip)) continue;
      const name = bank?.name ?? String(m.bankId);
      (byBank[name] ??= []).push({ bank_content_id: m.id, distance: m.detail ?? String(m.distance) });
    }
    return byBank;
  };
  /** Every bankable signal of hashed media looked up, keyed by HMA signal type, with one coin flip. */
  const lookupAll = (
    orgId: number,
    hashed: HashResult,
    banks: Set<number> | undefined,
    flip: number | null,
  ) => {
    const out: Record<string, ReturnType<typeof lookup>> = {};
    for (const signal of bankable(hashed))
      out[hmaType(signal.type)] = lookup(orgId, signal.type, signal.value, banks, flip);
    return out;
  };

  app.get(
    '/status',
    {
      config: { permission: null },
      schema: {
        tags,
        summary: 'HMA liveness: I-AM-ALIVE, or 503 INDEX-NOT-LOADED',
        response: { 200: Text, 503: Text },
      },
    },
    async (_request, reply: FastifyReply) => {
      const loaded = ctx.indexSync.loadedAt !== null;
      return reply
        .status(loaded ? 200 : 503)
        .type('text/plain')
        .send(loaded ? 'I-AM-ALIVE' : 'INDEX-NOT-LOADED');
    },
  );
  app.get(
    '/status/live',
    { config: { permission: null }, schema: { tags, response: { 200: Text } } },
    async (_request, reply) => reply.type('text/plain').send('I-AM-ALIVE'),
  );

  app.get<{ Querystring: Static<typeof UrlQuery> }>(
    '/h/hash',
    {
      config: { permission: 'hash' },
      schema: {
        tags,
        summary: 'HMA: hash the media at a URL (hosts in KAITIAKI_FETCH_ALLOWED_HOSTS only)',
        querystring: UrlQuery,
        response: { 200: Hashes },
      },
    },
    async (request) => onlyTypes(hmaHashes(await hashUrl(request.query)), request.query.types),
  );
  app.post(
    '/h/hash',
    {
      config: { permission: 'hash' },
      schema: {
        tags,
        summary: 'HMA: hash an upload (field name photo or video)',
        consumes: ['multipart/form-data'],
        response: { 200: Hashes },
      },
    },
    async (request) => {
      const { buffer } = await readForm(request);
      return hmaHashes(await hashBuffer(buffer, hashOptions(ctx)));
    },
  );

  app.get<{ Querystring: Static<typeof LookupQuery> }>(
    '/m/raw_lookup',
    {
      config: { permission: 'match' },
      schema: {
        tags,
        summary: 'HMA: ids of matching bank content',
        querystring: LookupQuery,
        response: {
          200: Type.Object({
            matches: Type.Union([
              Type.Array(Type.Integer()),
              Type.Array(Type.Object({ bank_content_id: Type.Integer(), distance: Type.String() })),
            ]),
          }),
        },
      },
    },
    async (request) => {
      const q = request.query;
      if (!q.signal_type || !q.signal) throw new ValidationError('signal_type and signal are required');
      const orgId = principalOf(request).orgId;
      const type = ourType(q.signal_type);
      const value = getSignalType(type).normalize(q.signal);
      const matches = ctx.matcher.rawMatches(orgId, [{ type, value }], {
        banks: await bankNames(orgId, q.banks),
      });
      return {
        matches: q.include_distance
          ? matches.map((m) => ({ bank_content_id: m.id, distance: m.detail ?? String(m.distance) }))
          : matches.map((m) => m.id),
      };
    },
  );

  app.get<{ Querystring: Static<typeof LookupQuery> }>(
    '/m/lookup',
    {
      config: { permission: 'match' },
      schema: {
        tags,
        summary: 'HMA: matches by bank for one signal, or for the media at a URL (url, content_type)',
        querystring: LookupQuery,
        response: { 200: Lookup },
      },
    },
    async (request) => {
      const q = request.query;
      const orgId = principalOf(request).orgId;
      const banks = await bankNames(orgId, q.banks);
      const flip = coinFlip(q);
      if (q.url) {
        const all = onlyTypes(lookupAll(orgId, await hashUrl(q), banks, flip), q.types);
        return q.signal_type ? (all[q.signal_type] ?? {}) : all;
      }
      if (!q.signal_type || !q.signal)
        throw new ValidationError('signal_type and signal are required (or url)');
      const type = ourType(q.signal_type);
      return lookup(orgId, type, getSignalType(type).normalize(q.signal), banks, flip);
    },
  );

  app.post<{ Querystring: Static<typeof LookupQuery> }>(
    '/m/lookup',
    {
      config: { permission: 'match' },
      schema: {
        tags,
        summary: 'HMA: hash an upload and look up every signal',
        querystring: LookupQuery,
        consumes: ['multipart/form-data'],
        response: { 200: Type.Record(Type.String(), BankMatches, { description: 'per HMA signal type' }) },
      },
    },
    async (request) => {
      const orgId = principalOf(request).orgId;
      const { buffer } = await readForm(request);
      const hashed = await hashBuffer(buffer, hashOptions(ctx));
      const banks = await bankNames(orgId, request.query.banks);
      return onlyTypes(lookupAll(orgId, hashed, banks, coinFlip(request.query)), request.query.types);
    },
  );

  app.post<{ Body: Record<string, string[]> }>(
    '/m/compare',
    {
      config: { permission: 'match' },
      schema: {
        tags,
        summary: 'HMA: compare two signals of a type',
        body: Type.Record(
          Type.String({ maxLength: 32 }),
          Type.Array(Type.String({ maxLength: 8_000_000 }), { minItems: 2, maxItems: 2 }),
          { minProperties: 1, maxProperties: 8 },
        ),
        response: {
          200: Type.Record(Type.String(), Type.Unknown(), {
            description: 'per signal type: [matched, {distance}]',
          }),
        },
      },
    },
    async (request) => {
      const out: Record<string, unknown> = {};
      for (const [name, [a, b]] of Object.entries(request.body)) {
        const type = getSignalType(ourType(name));
        const result = type.compare(type.normalize(a), type.normalize(b));
        out[name] = [result.match, { distance: result.detail ?? result.distance }];
      }
      return out;
    },
  );

  app.get<{ Querystring: { signal_type?: string } }>(
    '/m/index/status',
    {
      config: { permission: 'index:read' },
      schema: {
        tags,
        summary: 'HMA: index presence and size per signal type',
        response: {
          200: Type.Record(
            Type.String(),
            Type.Object({
              present: Type.Boolean(),
              built_to: Type.Integer({ description: 'Unix seconds' }),
              size: Type.Integer(),
              buckets: Type.Optional(Type.Object({}, { additionalProperties: true })),
            }),
          ),
        },
      },
    },
    async (request) => {
      const builtTo = Math.floor(Date.parse(ctx.indexSync.loadedAt ?? ctx.startedAt) / 1000);
      const all = Object.fromEntries(
        Object.entries(ctx.index.status()).map(([type, s]) => [
          hmaType(type),
          {
            present: ctx.indexSync.loadedAt !== null,
            built_to: s.lastUpdate ? Math.floor(Date.parse(s.lastUpdate) / 1000) : builtTo,
            size: s.size,
            buckets: bucketStatsView(s.buckets),
          },
        ]),
      );
      const wanted = request.query.signal_type;
      if (!wanted) return all;
      if (!all[wanted]) throw new NotFoundError(`unknown signal type "${wanted}"`);
      return { [wanted]: all[wanted] };
    },
  );

  app.get(
    '/c/banks',
    {
      config: { permission: 'banks:read' },
      schema: { tags, summary: 'HMA: banks you may see', response: { 200: Type.Array(HmaBank) } },
    },
    async (request) => {
      const orgId = principalOf(request).orgId;
      const out = [];
      let cursor: string | undefined;
      do {
        const page = await ctx.banks.list(orgId, { cursor, limit: 1000 });
        out.push(...page.items.map(bankJson));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return out;
    },
  );

  app.post<{ Body: Static<typeof CreateBank> }>(
    '/c/banks',
    {
      config: { permission: 'banks:write' },
      schema: {
        tags,
        summary: 'HMA: create a bank (UPPER_WITH_UNDERSCORE name)',
        body: CreateBank,
        response: { 201: HmaBank },
      },
    },
    async (request, reply) => {
      const { name, enabled_ratio, enabled } = request.body;
      if (!HMA_BANK_NAME.test(name))
        throw new ValidationError('bank names must be UPPER_WITH_UNDERSCORE ([A-Z_][A-Z0-9_]*)');
      try {
        const principal = principalOf(request);
        // As HMA: enabled_ratio wins over enabled; neither gives 1.0.
        const enabledRatio = enabled_ratio ?? (enabled === false ? 0 : 1);
        const bank = await ctx.bankWrites.create(
          principal.label,
          principal.orgId,
          { name, enabledRatio },
          'hma',
        );
        return reply.status(201).send(bankJson(bank));
      } catch (err) {
        // HMA answers 403 when the bank exists.
        if (err instanceof ConflictError) return reply.status(403).send({ message: err.message });
        throw err;
      }
    },
  );

  app.get<{ Params: Static<typeof BankParams> }>(
    '/c/bank/:bank',
    {
      config: { permission: 'banks:read' },
      schema: { tags, params: BankParams, response: { 200: HmaBank } },
    },
    async (request) =>
      bankJson(await ctx.banks.getVisibleByName(principalOf(request).orgId, request.params.bank)),
  );

  app.put<{ Params: Static<typeof BankParams>; Body: Static<typeof UpdateBank> }>(
    '/c/bank/:bank',
    {
      config: { permission: 'banks:write' },
      schema: { tags, params: BankParams, body: UpdateBank, response: { 200: HmaBank } },
    },
    async (request) => {
      const principal = principalOf(request);
      const bank = await ctx.banks.getVisibleByName(principal.orgId, request.params.bank);
      const { name, enabled, enabled_ratio } = request.body;
      if (name !== undefined && !HMA_BANK_NAME.test(name))
        throw new ValidationError('bank names must be UPPER_WITH_UNDERSCORE');
      // As HMA: `enabled` sets the ratio to 1 or 0, and `enabled_ratio` wins when both are given.
      const enabledRatio = enabled_ratio ?? (enabled === undefined ? undefined : enabled ? 1 : 0);
      const changes = {
        ...(name ? { name } : {}),
        ...(enabledRatio !== undefined ? { enabledRatio } : {}),
      };
      const updated = await ctx.bankWrites.update(
        principal.label,
        principal.orgId,
        bank.id,
        changes,
        changes,
        'hma',
      );
      return bankJson(updated);
    },
  );

  app.delete<{ Params: Static<typeof BankParams> }>(
    '/c/bank/:bank',
    {
      config: { permission: 'banks:write' },
      schema: { tags, params: BankParams, response: { 200: Message } },
    },
    async (request) => {
      const principal = principalOf(request);
      const bank = await ctx.banks.getVisibleByName(principal.orgId, request.params.bank);
      await ctx.bankWrites.delete(principal.label, principal.orgId, bank.id, 'hma');
      return { message: `Bank ${bank.name} deleted` };
    },
  );

  const addSignals = async (
    principal: Principal,
    bankName: string,
    signals: { type: string; value: string }[],
    note?: string,
    metadata?: HmaMetadata,
  ) => {
    const orgId = principal.orgId;
    const bank = await ctx.banks.getVisibleByName(orgId, bankName);
    await ctx.banks.assertCanContribute(orgId, bank.id);
    if (signals.length === 0)
      throw new ValidationError('no signal to add (a photo too flat to hash gives none)');
    const context = {
      bankId: bank.id,
      orgId: bank.orgId,
      contributorOrgId: orgId,
      source: 'manual' as const,
      defaultLabels: bank.defaultLabels,
    };
    const hma = metadata ? JSON.stringify({ metadata } satisfies HmaContentInfo) : null;
    const rows = signals.map((signal) => ({
      ...prepareEntry({ signalType: signal.type, value: signal.value, note: note ?? null }, context),
      hma,
    }));
    const results = await ctx.bankWrites.addEntries(principal.label, bank, rows, 'hma');
    const added: Record<string, string> = {};
    for (const { entry } of results) added[hmaType(entry.signalType)] = entry.value;
    return { id: results[0]?.entry.id ?? 0, signals: added };
  };

  app.post<{ Params: Static<typeof BankParams>; Querystring: Static<typeof AddContentQuery> }>(
    '/c/bank/:bank/content',
    {
      config: { permission: 'entries:write' },
      schema: {
        tags,
        summary:
          'HMA: hash an upload (multipart photo or video, with optional metadata, content_id, content_uri, note) ' +
          'or the media at ?url= into a bank',
        params: BankParams,
        querystring: AddContentQuery,
        consumes: ['multipart/form-data', 'application/json'],
        response: { 200: Added },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      // Check the bank before fetching or hashing anything.
      await ctx.banks.getVisibleByName(principal.orgId, request.params.bank);
      let hashed: HashResult;
      let fields: Record<string, unknown>;
      if (request.isMultipart()) {
        const form = await readForm(request);
        hashed = await hashBuffer(form.buffer, hashOptions(ctx));
        fields = form.fields;
      } else if (request.query.url) {
        const body = request.body;
        fields =
          body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
        hashed = await hashUrl(request.query);
      } else {
        throw new ValidationError('neither ?url= nor a multipart file upload was received');
      }
      // Metadata in the query (HMA's documented place) and in the body or form (what clients send) both count.
      const { url: _url, content_type: _type, types: _types, ...fromQuery } = request.query;
      fields = { ...fromQuery, ...fields };
      const note = fields.note;
      if (note !== undefined && typeof note !== 'string') throw new ValidationError('note must be a string');
      const signals = bankable(hashed);
      return addSignals(principal, request.params.bank, signals, note, hmaMetadata(fields));
    },
  );

  app.post<{ Params: Static<typeof BankParams>; Body: Record<string, string> }>(
    '/c/bank/:bank/signal',
    {
      config: { permission: 'entries:write' },
      schema: {
        tags,
        summary: 'HMA: add content from hashes',
        params: BankParams,
        body: Type.Record(Type.String({ maxLength: 32 }), Type.String({ maxLength: 8_000_000 }), {
          minProperties: 1,
          maxProperties: 8,
        }),
        response: { 200: Added },
      },
    },
    async (request) => {
      const { note, ...hashes } = request.body;
      const signals = Object.entries(hashes).map(([type, value]) => ({ type: ourType(type), value }));
      return addSignals(principalOf(request), request.params.bank, signals, note);
    },
  );

  app.get<{ Params: Static<typeof ContentParams>; Querystring: Static<typeof ContentQuery> }>(
    '/c/bank/:bank/content/:id',
    {
      config: { permission: 'entries:read' },
      schema: {
        tags,
        summary: 'HMA: one bank content; signals and metadata only when asked for',
        params: ContentParams,
        querystring: ContentQuery,
        response: { 200: Content },
      },
    },
    async (request) => {
      const bank = await ctx.banks.getVisibleByName(principalOf(request).orgId, request.params.bank);
      const entry = await ctx.entries.get(bank.id, request.params.id);
      return {
        id: entry.id,
        disable_until_ts: disableUntil(entry),
        original_media_uri: null,
        bank: bankJson(bank),
        ...(request.query.include_signals ? { signals: { [hmaType(entry.signalType)]: entry.value } } : {}),
        ...(request.query.include_metadata ? { metadata: entry.hma?.metadata ?? {} } : {}),
        ...(entry.note ? { note: entry.note } : {}),
      };
    },
  );

  app.put<{ Params: Static<typeof ContentParams>; Body: Static<typeof UpdateContent> }>(
    '/c/bank/:bank/content/:id',
    {
      config: { permission: 'entries:write' },
      schema: { tags, params: ContentParams, body: UpdateContent, response: { 200: ContentUpdated } },
    },
    async (request) => {
      const principal = principalOf(request);
      const bank = await ctx.banks.getVisibleByName(principal.orgId, request.params.bank);
      await ctx.banks.getOwned(principal.orgId, bank.id);
      const { disable_until_ts, note } = request.body;
      const current = await ctx.entries.get(bank.id, request.params.id);
      // As HMA: 1 enabled, 0 disabled, a time disabled until then (a time already past is enabled).
      const enabled =
        disable_until_ts === undefined
          ? undefined
          : disable_until_ts === 1 || (disable_until_ts > 1 && disable_until_ts * 1000 <= Date.now());
      const changes = {
        ...(enabled !== undefined ? { status: enabled ? ('active' as const) : ('disabled' as const) } : {}),
        ...(disable_until_ts !== undefined ? { hma: { ...current.hma, disable_until_ts } } : {}),
        ...(note !== undefined ? { note } : {}),
      };
      const entry = await ctx.bankWrites.updateEntry(
        principal.label,
        bank,
        request.params.id,
        changes,
        changes,
        'hma',
      );
      return { id: entry.id, disable_until_ts: disableUntil(entry), bank: bankJson(bank) };
    },
  );

  app.delete<{ Params: Static<typeof ContentParams> }>(
    '/c/bank/:bank/content/:id',
    {
      config: { permission: 'entries:write' },
      schema: { tags, params: ContentParams, response: { 200: Type.Object({ deleted: Type.Integer() }) } },
    },
    async (request) => {
      const principal = principalOf(request);
      const bank = await ctx.banks.getVisibleByName(principal.orgId, request.params.bank);
      await ctx.banks.getOwned(principal.orgId, bank.id);
      await ctx.bankWrites.deleteEntry(principal.label, bank, request.params.id, 'hma');
      return { deleted: 1 };
    },
  );

  registerHmaExchangeRoutes(app, ctx);
}
