/** Submissions: a platform sends content (signals, an upload or a URL) for a verdict; reads back a submission and its media. */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../../context.js';
import { NotFoundError, ValidationError } from '../../../core/errors.js';
import { sniffContentType } from '../../../hashing/content-type.js';
import { hashBuffer } from '../../../hashing/hash-file.js';
import {
  assertIdempotencyKey,
  type SubmissionInput,
  type SubmissionResult,
} from '../../../review/review-service.js';
import { principalOf } from '../../plugins/auth.js';
import { errorResponses, IdParams, Signal } from '../../schemas/common.js';
import { matchView } from '../../views.js';
import { answerOf, Id, MatchView, Nullable, Time } from '../../schemas/views.js';
import { POLICY_ACTIONS } from '../../../review/policy.js';
import { hashOptions, uploadedFile } from '../hashing.js';
import { signalsOf } from '../../../signals/registry.js';

const SubmissionBody = Type.Object(
  {
    external_id: Type.String({ minLength: 1, maxLength: 200 }),
    /** The signals, computed by the platform; or instead a `url` for Kaitiaki to fetch (allowed hosts only). */
    signals: Type.Optional(Type.Array(Signal, { minItems: 1, maxItems: 16 })),
    url: Type.Optional(Type.String({ minLength: 8, maxLength: 4000 })),
    uploader_id: Type.Optional(Type.String({ maxLength: 200 })),
    content_type: Type.Optional(
      Type.Union([Type.Literal('photo'), Type.Literal('video'), Type.Literal('other')]),
    ),
    context: Type.Optional(
      Type.Object(
        {
          surface: Type.Optional(Type.String({ maxLength: 100 })),
          time: Type.Optional(Type.String({ maxLength: 40 })),
          country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

function submissionView(result: SubmissionResult) {
  return {
    id: result.id,
    external_id: result.externalId,
    verdict: result.verdict,
    policy_action: result.action,
    case_id: result.caseId,
    replayed: result.replayed,
    created_at: result.createdAt,
    matches: result.matches.map(matchView),
  };
}

function submissionDetail(s: Awaited<ReturnType<AppContext['review']['getSubmission']>>) {
  return {
    id: s.id,
    external_id: s.externalId,
    verdict: s.verdict,
    case_id: s.caseId,
    signals: s.signals,
    uploader_id: s.uploaderId,
    context: s.context,
    created_at: s.createdAt,
    has_media: s.mediaSha256 !== null,
    media_purged_at: s.mediaPurgedAt,
  };
}

const Verdict = Type.Enum(['no-match', 'actioned', 'queued', 'logged', 'pending', 'failed']);
const SubmissionSchema = answerOf<ReturnType<typeof submissionView>>()(
  Type.Object({
    id: Id,
    external_id: Type.String(),
    verdict: Verdict,
    policy_action: Nullable(Type.Enum(POLICY_ACTIONS)),
    case_id: Nullable(Id),
    replayed: Type.Boolean({ description: 'the stored answer to a repeated Idempotency-Key' }),
    created_at: Time,
    matches: Type.Array(MatchView),
  }),
);
const SubmissionDetailSchema = answerOf<ReturnType<typeof submissionDetail>>()(
  Type.Object({
    id: Id,
    external_id: Type.String(),
    verdict: Verdict,
    case_id: Nullable(Id),
    signals: Type.Array(Type.Object({ type: Type.String(), value: Type.String() })),
    uploader_id: Nullable(Type.String()),
    context: Type.Record(Type.String(), Type.Unknown()),
    created_at: Time,
    has_media: Type.Boolean(),
    media_purged_at: Nullable(Time),
  }),
);
const Media = { schema: Type.String({ format: 'binary' }) };

export async function submissionRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const tags = ['review'];

  app.post<{ Body: Static<typeof SubmissionBody> }>(
    '/v1/submissions',
    {
      config: { permission: 'submissions:write' },
      schema: {
        tags,
        summary: 'Submit content a user uploaded; the verdict comes back at once when signals are given',
        description:
          'JSON with signals, or multipart with a `file` part plus `external_id` (and optional `uploader_id`) fields. An `Idempotency-Key` header makes retries safe.',
        body: SubmissionBody,
        response: { 200: SubmissionSchema, 201: SubmissionSchema, 202: SubmissionSchema, ...errorResponses },
      },
      attachValidation: true,
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const key = request.headers['idempotency-key'];
      if (Array.isArray(key)) throw new ValidationError('send one Idempotency-Key header');
      if (key !== undefined) assertIdempotencyKey(key);
      let input: SubmissionInput;
      if (request.isMultipart()) {
        // The same limits as the JSON body's schema.
        const file = await uploadedFile(request, { external_id: 200, uploader_id: 200 });
        const fields = file.fields;
        const externalId = fields.external_id;
        if (!externalId)
          throw new ValidationError('multipart submissions need an external_id field (before the file part)');
        if (sniffContentType(file.buffer.subarray(0, 512)) === 'video') {
          // Videos take seconds to hash: answered now (202, pending), verdict by webhook when done.
          const pending = await ctx.review.submitMedia(
            principal.label,
            principal.orgId,
            { externalId, uploaderId: fields.uploader_id, contentType: 'video', media: file.buffer },
            key,
          );
          return reply.status(pending.replayed ? 200 : 202).send(submissionView(pending));
        }
        const hashed = await hashBuffer(file.buffer, hashOptions(ctx));
        input = {
          externalId,
          signals: signalsOf(hashed),
          uploaderId: fields.uploader_id,
          contentType: hashed.type,
          media: file.buffer,
        };
      } else {
        if (request.validationError) throw request.validationError;
        const body = request.body;
        if ((body.signals === undefined) === (body.url === undefined)) {
          throw new ValidationError('send either signals or a url', 'KAI_ERR_SIGNALS_OR_URL');
        }
        if (body.url !== undefined) {
          const pending = await ctx.review.submitUrl(
            principal.label,
            principal.orgId,
            {
              externalId: body.external_id,
              url: body.url,
              uploaderId: body.uploader_id,
              contentType: body.content_type,
              context: body.context,
            },
            key,
          );
          return reply.status(pending.replayed ? 200 : 202).send(submissionView(pending));
        }
        input = {
          externalId: body.external_id,
          signals: body.signals!,
          uploaderId: body.uploader_id,
          contentType: body.content_type,
          context: body.context,
        };
      }
      const result = await ctx.review.submit(principal.label, principal.orgId, input, key);
      return reply.status(result.replayed ? 200 : 201).send(submissionView(result));
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/submissions/:id',
    {
      config: { permission: 'submissions:read' },
      schema: {
        tags,
        summary: 'One submission and its verdict',
        params: IdParams,
        response: { 200: SubmissionDetailSchema, ...errorResponses },
      },
    },
    async (request) =>
      submissionDetail(await ctx.review.getSubmission(principalOf(request).orgId, request.params.id)),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/submissions/:id/media',
    {
      config: { permission: 'media:view' },
      schema: {
        tags,
        summary: 'The uploaded media of a submission (for reviewers; never cached)',
        params: IdParams,
        response: { 200: { content: { 'image/*': Media, 'video/*': Media } }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const orgId = principalOf(request).orgId;
      const s = await ctx.review.getSubmission(orgId, request.params.id);
      if (!s.mediaSha256)
        throw new NotFoundError(
          s.mediaPurgedAt
            ? 'the media was deleted at the end of its retention period'
            : 'no media was sent with this submission',
        );
      const { bytes, type } = await ctx.media.get(orgId, s.mediaSha256);
      return reply
        .type(type)
        .header('cache-control', 'private, no-store')
        .header('x-content-type-options', 'nosniff')
        .send(bytes);
    },
  );
}
