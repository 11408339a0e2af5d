import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { SERVER_IMPORT_BATCH, exportEntries, importEntries } from '../../banks/transfer.js';
import type { AppContext } from '../../context.js';
import { ValidationError } from '../../core/errors.js';
import { ENTRY_STATUSES, prepareEntry } from '../../store/entries.js';
import { principalOf } from '../plugins/auth.js';
import {
  BankEntryParams,
  errorResponses,
  IdParams,
  Labels,
  PageQuery,
  SignalTypeName,
} from '../schemas/common.js';
import { EntryView, PageOf } from '../schemas/views.js';
import { entryView } from '../views.js';

const Status = Type.Union(ENTRY_STATUSES.map((s) => Type.Literal(s)));
const CreateEntry = Type.Object(
  {
    signal_type: SignalTypeName,
    value: Type.String({ minLength: 1, maxLength: 8_000_000 }),
    labels: Type.Optional(Labels),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
    external_id: Type.Optional(Type.String({ maxLength: 200 })),
    status: Type.Optional(Status),
  },
  { additionalProperties: false },
);
const UpdateEntry = Type.Object(
  {
    labels: Type.Optional(Labels),
    note: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
    status: Type.Optional(Status),
  },
  { additionalProperties: false, minProperties: 1 },
);
const ListQuery = Type.Object(
  {
    ...PageQuery.properties,
    signal_type: Type.Optional(SignalTypeName),
    status: Type.Optional(Status),
    label: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
const ImportQuery = Type.Object(
  { stop_on_error: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const ExportQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('jsonl'), Type.Literal('csv')])) },
  { additionalProperties: false },
);

export async function entryRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const tags = ['entries'];
  // Imports stream the request body line by line instead of buffering it.
  app.addContentTypeParser(
    ['application/x-ndjson', 'application/jsonl', 'text/csv'],
    (_request, payload, done) => done(null, payload),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof CreateEntry> }>(
    '/v1/banks/:id/entries',
    {
      config: { permission: 'entries:write' },
      schema: {
        tags,
        summary: 'Add a signal to a bank (idempotent on type and value)',
        params: IdParams,
        body: CreateEntry,
        response: {
          200: Type.Intersect([EntryView, Type.Object({ created: Type.Boolean() })]),
          201: Type.Intersect([EntryView, Type.Object({ created: Type.Boolean() })]),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const bank = await ctx.banks.assertCanContribute(principal.orgId, request.params.id);
      const body = request.body;
      const row = prepareEntry(
        {
          signalType: body.signal_type,
          value: body.value,
          labels: body.labels,
          note: body.note,
          externalId: body.external_id,
          status: body.status,
        },
        {
          bankId: bank.id,
          orgId: bank.orgId,
          contributorOrgId: principal.orgId,
          source: 'manual',
          defaultLabels: bank.defaultLabels,
        },
      );
      const [{ entry, created }] = await ctx.bankWrites.addEntries(principal.label, bank, [row]);
      return reply.status(created ? 201 : 200).send({ ...entryView(entry), created });
    },
  );

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ListQuery> }>(
    '/v1/banks/:id/entries',
    {
      config: { permission: 'entries:read' },
      schema: {
        tags,
        summary: 'List the entries of a bank',
        params: IdParams,
        querystring: ListQuery,
        response: { 200: PageOf(EntryView), ...errorResponses },
      },
    },
    async (request) => {
      const bank = await ctx.banks.getVisible(principalOf(request).orgId, request.params.id);
      const q = request.query;
      const page = await ctx.entries.list(bank.id, {
        cursor: q.cursor,
        limit: q.limit,
        signalType: q.signal_type,
        status: q.status,
        label: q.label,
      });
      return { items: page.items.map(entryView), next_cursor: page.nextCursor };
    },
  );

  app.get<{ Params: Static<typeof BankEntryParams> }>(
    '/v1/banks/:id/entries/:entryId',
    {
      config: { permission: 'entries:read' },
      schema: {
        tags,
        summary: 'One entry',
        params: BankEntryParams,
        response: { 200: EntryView, ...errorResponses },
      },
    },
    async (request) => {
      const bank = await ctx.banks.getVisible(principalOf(request).orgId, request.params.id);
      return entryView(await ctx.entries.get(bank.id, request.params.entryId));
    },
  );

  app.patch<{ Params: Static<typeof BankEntryParams>; Body: Static<typeof UpdateEntry> }>(
    '/v1/banks/:id/entries/:entryId',
    {
      config: { permission: 'entries:write' },
      schema: {
        tags,
        summary: "Change an entry's labels, note or status",
        params: BankEntryParams,
        body: UpdateEntry,
        response: { 200: EntryView, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const bank = await ctx.banks.getOwned(principal.orgId, request.params.id);
      const entry = await ctx.bankWrites.updateEntry(
        principal.label,
        bank,
        request.params.entryId,
        request.body,
      );
      return entryView(entry);
    },
  );

  app.delete<{ Params: Static<typeof BankEntryParams> }>(
    '/v1/banks/:id/entries/:entryId',
    {
      config: { permission: 'entries:write' },
      schema: {
        tags,
        summary: 'Retract (delete) an entry',
        description:
          "The bank's owner and organisations with moderate rights retract any entry; with contribute rights, only the entries your organisation contributed.",
        params: BankEntryParams,
        response: { 204: Type.Null({ description: 'retracted' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      await ctx.bankWrites.retractEntry(
        principal.label,
        principal.orgId,
        request.params.id,
        request.params.entryId,
      );
      return reply.status(204).send();
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ImportQuery> }>(
    '/v1/banks/:id/import',
    {
      config: { permission: 'entries:write' },
      schema: {
        tags,
        summary:
          'Bulk import: a JSON-lines (application/x-ndjson) or CSV (text/csv) body, streamed; idempotent',
        description:
          'JSON lines: {"signal_type","value","labels"?,"note"?,"external_id"?,"status"?} per line. CSV: a header naming signal_type,value and ' +
          'optionally labels (separated by |),note,external_id,status. Bad lines are reported with their numbers and skipped unless stop_on_error=true.',
        params: IdParams,
        querystring: ImportQuery,
        response: {
          200: Type.Object({
            lines: Type.Integer(),
            inserted: Type.Integer(),
            duplicates: Type.Integer(),
            errors: Type.Integer(),
            error_samples: Type.Array(Type.Object({ line: Type.Integer(), message: Type.String() })),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const bank = await ctx.banks.assertCanContribute(principal.orgId, request.params.id);
      const type = request.headers['content-type'] ?? '';
      const format = type.startsWith('text/csv')
        ? 'csv'
        : type.includes('ndjson') || type.includes('jsonl')
          ? 'jsonl'
          : null;
      if (!format)
        throw new ValidationError(
          'send the entries as application/x-ndjson or text/csv',
          'KAI_ERR_UNSUPPORTED_MEDIA_TYPE',
        );
      const report = await importEntries(ctx.entries, bank, request.body as Readable, {
        format,
        contributorOrgId: principal.orgId,
        taxonomy: await ctx.taxonomies.keys(bank.id),
        stopOnError: request.query.stop_on_error,
        batchSize: SERVER_IMPORT_BATCH,
      });
      // The entries commit in batches as they stream in; the import itself is recorded once, with its counts.
      await ctx.bankWrites.recordImport(principal.label, bank, {
        format,
        lines: report.lines,
        inserted: report.inserted,
        duplicates: report.duplicates,
        errors: report.errors,
      });
      return {
        lines: report.lines,
        inserted: report.inserted,
        duplicates: report.duplicates,
        errors: report.errors,
        error_samples: report.errorSamples,
      };
    },
  );

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ExportQuery> }>(
    '/v1/banks/:id/export',
    {
      config: { permission: 'entries:read' },
      schema: {
        tags,
        summary: 'Export every entry as JSON lines (default) or CSV, streamed',
        params: IdParams,
        querystring: ExportQuery,
        response: {
          200: {
            content: {
              'application/x-ndjson': { schema: Type.String({ description: 'one entry per line' }) },
              'text/csv': { schema: Type.String({ description: 'a header line, then one entry per line' }) },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const bank = await ctx.banks.getVisible(principalOf(request).orgId, request.params.id);
      const format = request.query.format ?? 'jsonl';
      const stream = new PassThrough();
      reply.type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
      reply.header('content-disposition', `attachment; filename="${bank.name}.${format}"`);
      exportEntries(ctx.entries, bank.id, stream, format)
        .then(() => stream.end())
        .catch((err: Error) => stream.destroy(err));
      return reply.send(stream);
    },
  );
}
