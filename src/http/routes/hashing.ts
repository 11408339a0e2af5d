import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../context.js';
import { ValidationError } from '../../core/errors.js';
import { hashBuffer, type HashResult } from '../../hashing/hash-file.js';
import { formatVpdqSignal } from '../../hashing/vpdq/format.js';
import { bucketStatsView } from '../../matching/signal-index-set.js';
import { principalOf } from '../plugins/auth.js';
import { errorResponses, Signal } from '../schemas/common.js';
import { matchView } from '../views.js';
import { MatchView, Nullable, Time } from '../schemas/views.js';
import { signalsOf } from '../../signals/registry.js';

/** The one uploaded file of a multipart request (any field name), read with the upload size limit. */
/** Longest text field accepted beside an uploaded file (ids, names, JSON metadata). */
const MAX_FIELD_CHARS = 8_192;

/**
 * The one file of a multipart upload and the text fields sent with it. The limits JSON bodies get apply here too:
 * a second file, an over-long field or a repeated field is refused, never silently dropped.
 */
export async function uploadedFile(
  request: FastifyRequest,
  fieldLimits: Record<string, number> = {},
): Promise<{ field: string; buffer: Buffer; filename: string; fields: Record<string, string> }> {
  if (!request.isMultipart())
    throw new ValidationError(
      'send the media as multipart/form-data with one file part',
      'KAI_ERR_NOT_MULTIPART',
    );
  let file: { field: string; buffer: Buffer; filename: string } | null = null;
  const fields: Record<string, string> = {};
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (file) {
        await part.toBuffer().catch(() => undefined);
        throw new ValidationError(
          'send one file per request (this one has several)',
          'KAI_ERR_TOO_MANY_FILES',
        );
      }
      file = { field: part.fieldname, buffer: await part.toBuffer(), filename: part.filename };
      continue;
    }
    const value = typeof part.value === 'string' ? part.value : String(part.value);
    const limit = fieldLimits[part.fieldname] ?? MAX_FIELD_CHARS;
    if (value.length > limit)
      throw new ValidationError(
        `the field "${part.fieldname}" is ${value.length} characters long; at most ${limit} are accepted`,
        'KAI_ERR_FIELD_TOO_LONG',
      );
    if (Object.hasOwn(fields, part.fieldname))
      throw new ValidationError(`the field "${part.fieldname}" is sent twice`, 'KAI_ERR_FIELD_REPEATED');
    fields[part.fieldname] = value;
  }
  if (!file) throw new ValidationError('the multipart body has no file part', 'KAI_ERR_NO_FILE');
  return { ...file, fields };
}

export function hashOptions(ctx: AppContext) {
  return {
    maxPixels: ctx.config.hashing.maxPixels,
    maxVideoSeconds: ctx.config.hashing.maxVideoSeconds,
    maxBytes: ctx.config.http.maxUploadBytes,
  };
}

/** Types whose view above carries more than the value (quality, frames). */
const KNOWN_HASH_VIEWS = new Set(['pdq', 'vpdq', 'md5', 'sha256']);

function hashView(result: HashResult) {
  return {
    content_type: result.type,
    bytes: result.bytes,
    ...(result.width ? { width: result.width, height: result.height } : {}),
    signals: {
      ...(result.pdq !== undefined
        ? { pdq: { value: result.pdq, quality: result.quality, usable: result.pdqUsable } }
        : {}),
      ...(result.vpdq ? { vpdq: { value: formatVpdqSignal(result.vpdq), frames: result.vpdq.length } } : {}),
      ...(result.md5 ? { md5: { value: result.md5 } } : {}),
      ...(result.sha256 ? { sha256: { value: result.sha256 } } : {}),
      // Any other registered type that reads a signal off a hashed file.
      ...Object.fromEntries(
        signalsOf(result)
          .filter((s) => !KNOWN_HASH_VIEWS.has(s.type))
          .map((s) => [s.type, { value: s.value }]),
      ),
    },
  };
}

const SignalValue = Type.Object({ value: Type.String() });
const HashSchema = Type.Object({
  content_type: Type.String(),
  bytes: Type.Integer(),
  width: Type.Optional(Type.Integer()),
  height: Type.Optional(Type.Integer()),
  signals: Type.Object(
    {
      pdq: Type.Optional(
        Type.Object({
          value: Type.String(),
          quality: Type.Optional(Type.Integer()),
          usable: Type.Optional(Type.Boolean({ description: 'false: quality too low to match on' })),
        }),
      ),
      vpdq: Type.Optional(Type.Object({ value: Type.String(), frames: Type.Integer() })),
      md5: Type.Optional(SignalValue),
      sha256: Type.Optional(SignalValue),
    },
    { additionalProperties: SignalValue, description: 'per signal type; other registered types as {value}' },
  ),
});
const MatchSchema = Type.Object({
  ...Type.Partial(HashSchema).properties,
  matches: Type.Array(MatchView),
});
const IndexStatus = Type.Object({
  loaded_at: Nullable(Time),
  sequence: Type.Integer(),
  last_sync_error: Nullable(Type.String()),
  banks: Type.Integer(),
  process_memory_bytes: Type.Number(),
  signal_types: Type.Record(
    Type.String(),
    Type.Object({
      size: Type.Integer(),
      memory_bytes: Type.Number(),
      last_update: Nullable(Time),
      buckets: Type.Optional(
        Type.Object(
          {},
          {
            additionalProperties: true,
            description: 'largest, p99, even_length, layouts, per_table_largest (hash indexes only)',
          },
        ),
      ),
    }),
  ),
});

const MatchBody = Type.Object(
  {
    signals: Type.Array(Signal, { minItems: 1, maxItems: 64 }),
    /** Only these banks (ids); default: every enabled bank you may see. */
    banks: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 1000 })),
  },
  { additionalProperties: false },
);

export async function hashingRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post(
    '/v1/hash',
    {
      config: { permission: 'hash' },
      schema: {
        tags: ['matching'],
        summary: 'Upload media (multipart, one file part) and get its signals',
        consumes: ['multipart/form-data'],
        response: { 200: HashSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { buffer } = await uploadedFile(request);
      return hashView(await hashBuffer(buffer, hashOptions(ctx)));
    },
  );

  app.post<{ Body: Static<typeof MatchBody> }>(
    '/v1/match',
    {
      config: { permission: 'match' },
      schema: {
        tags: ['matching'],
        summary: 'Match signals (JSON) or an upload (multipart) against the banks you may see',
        description:
          'JSON: {"signals":[{"type":"pdq","value":"<64 hex>"}], "banks"?: [ids]}. Multipart: one file part; it is hashed first.',
        body: MatchBody,
        response: {
          200: Type.Object(MatchSchema.properties, {
            description: 'an upload also answers its signals, as POST /v1/hash',
          }),
          ...errorResponses,
        },
      },
      // The body schema is for JSON; a multipart upload has no JSON body and is validated by the hasher.
      attachValidation: true,
    },
    async (request) => {
      const orgId = principalOf(request).orgId;
      if (!request.isMultipart() && request.validationError) throw request.validationError;
      if (request.isMultipart()) {
        const { buffer } = await uploadedFile(request);
        const hashed = await hashBuffer(buffer, hashOptions(ctx));
        const matches = await ctx.matcher.match(orgId, signalsOf(hashed));
        return { ...hashView(hashed), matches: matches.map(matchView) };
      }
      const banks = request.body.banks ? new Set(request.body.banks) : undefined;
      const matches = await ctx.matcher.match(orgId, request.body.signals, { banks });
      return { matches: matches.map(matchView) };
    },
  );

  app.get(
    '/v1/index/status',
    {
      config: { permission: 'index:read' },
      schema: {
        tags: ['matching'],
        summary: 'Index sizes, memory and last update per signal type',
        response: { 200: IndexStatus, ...errorResponses },
      },
    },
    async () => ({
      loaded_at: ctx.indexSync.loadedAt,
      sequence: ctx.index.seq,
      last_sync_error: ctx.indexSync.lastError,
      banks: ctx.bankRules.size,
      process_memory_bytes: process.memoryUsage().rss,
      signal_types: Object.fromEntries(
        Object.entries(ctx.index.status()).map(([type, s]) => [
          type,
          {
            size: s.size,
            memory_bytes: s.memoryBytes,
            last_update: s.lastUpdate,
            buckets: bucketStatsView(s.buckets),
          },
        ]),
      ),
    }),
  );
}
