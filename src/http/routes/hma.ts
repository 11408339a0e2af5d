/**
 * An HMA-compatible facade (Hasher-Matcher-Actioner 1.1's request and response shapes) so existing HMA
 * clients can point at Kaitiaki unchanged; the API key still applies. HMA's `video_md5` is our `md5`.
 * Not covered: hashing or looking up by URL (`?url=`), exchanges (/c/exchanges*), signal and content type
 * configuration (/c/signal_type*, /c/content_type), /dev and /ui.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Principal } from '../../auth/roles.js';
import type { AppContext } from '../../context.js';
import { ConflictError, NotFoundError, ValidationError } from '../../core/errors.js';
import { hashBuffer, signalsOf, type HashResult } from '../../hashing/hash-file.js';
import { formatVpdqSignal } from '../../hashing/vpdq/format.js';
import { bucketStatsView } from '../../index/signal-index.js';
import { getSignalType } from '../../signals/registry.js';
import type { Bank } from '../../store/banks.js';
import { prepareEntry } from '../../store/entries.js';
import { principalOf } from '../plugins/auth.js';
import { hashOptions, uploadedFile } from './hashing.js';

const tags = ['hma'];
const TO_HMA: Record<string, string> = { md5: 'video_md5' };
const FROM_HMA: Record<string, string> = { video_md5: 'md5' };
const ourType = (hmaType: string) => FROM_HMA[hmaType] ?? hmaType;
const hmaType = (ours: string) => TO_HMA[ours] ?? ours;
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
  return { name: bank.name, matching_enabled_ratio: bank.enabled ? 1.0 : 0.0 };
}

const LookupQuery = Type.Object(
  {
    signal_type: Type.Optional(Type.String({ maxLength: 32 })),
    signal: Type.Optional(Type.String({ maxLength: 8_000_000 })),
    banks: Type.Optional(Type.String({ maxLength: 10_000 })),
    include_distance: Type.Optional(Type.Boolean()),
    seed: Type.Optional(Type.String()),
    bypass_coinflip: Type.Optional(Type.Boolean()),
    url: Type.Optional(Type.String()),
    content_type: Type.Optional(Type.String()),
    types: Type.Optional(Type.String()),
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

export async function hmaRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const noUrls = () => {
    throw new ValidationError(
      'this server does not fetch URLs (an SSRF risk); upload the file instead',
      'KAI_ERR_URL_UNSUPPORTED',
    );
  };
  const bankNames = async (orgId: number, names: string | undefined): Promise<Set<number> | undefined> => {
    if (!names) return undefined;
    const ids = new Set<number>();
    for (const name of names
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean))
      ids.add((await ctx.banks.getVisibleByName(orgId, name)).id);
    return ids;
  };
  /** {BANK_NAME: [{bank_content_id, distance}]} for one signal. */
  const lookup = (orgId: number, type: string, value: string, banks?: Set<number>) => {
    const byBank: Record<string, { bank_content_id: number; distance: string }[]> = {};
    for (const m of ctx.matcher.rawMatches(orgId, [{ type, value }], { banks })) {
      const name = ctx.bankRules.bank(m.bankId)?.name ?? String(m.bankId);
      (byBank[name] ??= []).push({ bank_content_id: m.id, distance: m.detail ?? String(m.distance) });
    }
    return byBank;
  };

  app.get(
    '/status',
    {
      config: { permission: null },
      schema: { tags, summary: 'HMA liveness: I-AM-ALIVE, or 503 INDEX-NOT-LOADED' },
    },
    async (_request, reply: FastifyReply) => {
      const loaded = ctx.indexSync.loadedAt !== null;
      return reply
        .status(loaded ? 200 : 503)
        .type('text/plain')
        .send(loaded ? 'I-AM-ALIVE' : 'INDEX-NOT-LOADED');
    },
  );
  app.get('/status/live', { config: { permission: null }, schema: { tags } }, async (_request, reply) =>
    reply.type('text/plain').send('I-AM-ALIVE'),
  );

  app.get(
    '/h/hash',
    { config: { permission: 'hash' }, schema: { tags, summary: 'Not supported: hashing by URL' } },
    noUrls,
  );
  app.post(
    '/h/hash',
    {
      config: { permission: 'hash' },
      schema: {
        tags,
        summary: 'HMA: hash an upload (field name photo or video)',
        consumes: ['multipart/form-data'],
      },
    },
    async (request) => {
      const { buffer } = await uploadedFile(request);
      return hmaHashes(await hashBuffer(buffer, hashOptions(ctx)));
    },
  );

  app.get<{ Querystring: Static<typeof LookupQuery> }>(
    '/m/raw_lookup',
    {
      config: { permission: 'match' },
      schema: { tags, summary: 'HMA: ids of matching bank content', querystring: LookupQuery },
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
      schema: { tags, summary: 'HMA: matches by bank for one signal', querystring: LookupQuery },
    },
    async (request) => {
      const q = request.query;
      if (q.url) noUrls();
      if (!q.signal_type || !q.signal) throw new ValidationError('signal_type and signal are required');
      const orgId = principalOf(request).orgId;
      const type = ourType(q.signal_type);
      return lookup(orgId, type, getSignalType(type).normalize(q.signal), await bankNames(orgId, q.banks));
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
      },
    },
    async (request) => {
      const orgId = principalOf(request).orgId;
      const { buffer } = await uploadedFile(request);
      const hashed = await hashBuffer(buffer, hashOptions(ctx));
      const banks = await bankNames(orgId, request.query.banks);
      const out: Record<string, unknown> = {};
      for (const signal of signalsOf(hashed)) {
        if (signal.type === 'sha256' || (signal.type === 'md5' && hashed.type !== 'video')) continue;
        out[hmaType(signal.type)] = lookup(orgId, signal.type, signal.value, banks);
      }
      return out;
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
      schema: { tags, summary: 'HMA: index presence and size per signal type' },
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
    { config: { permission: 'banks:read' }, schema: { tags, summary: 'HMA: banks you may see' } },
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
      schema: { tags, summary: 'HMA: create a bank (UPPER_WITH_UNDERSCORE name)', body: CreateBank },
    },
    async (request, reply) => {
      const { name, enabled_ratio, enabled } = request.body;
      if (!HMA_BANK_NAME.test(name))
        throw new ValidationError('bank names must be UPPER_WITH_UNDERSCORE ([A-Z_][A-Z0-9_]*)');
      try {
        const principal = principalOf(request);
        const bank = await ctx.mutate(principal.label, async (m) => {
          const created = await m.banks.create(principal.orgId, {
            name,
            enabled: enabled ?? (enabled_ratio === undefined || enabled_ratio > 0),
          });
          await m.audit({
            orgId: principal.orgId,
            action: 'bank.create',
            subjectType: 'bank',
            subjectId: created.id,
            detail: { name, via: 'hma' },
          });
          return created;
        });
        await ctx.afterBankWrite();
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
    { config: { permission: 'banks:read' }, schema: { tags, params: BankParams } },
    async (request) =>
      bankJson(await ctx.banks.getVisibleByName(principalOf(request).orgId, request.params.bank)),
  );

  app.put<{ Params: Static<typeof BankParams>; Body: Static<typeof UpdateBank> }>(
    '/c/bank/:bank',
    { config: { permission: 'banks:write' }, schema: { tags, params: BankParams, body: UpdateBank } },
    async (request) => {
      const principal = principalOf(request);
      const bank = await ctx.banks.getVisibleByName(principal.orgId, request.params.bank);
      const { name, enabled, enabled_ratio } = request.body;
      if (name !== undefined && !HMA_BANK_NAME.test(name))
        throw new ValidationError('bank names must be UPPER_WITH_UNDERSCORE');
      const nextEnabled = enabled ?? (enabled_ratio === undefined ? undefined : enabled_ratio > 0);
      const changes = {
        ...(name ? { name } : {}),
        ...(nextEnabled !== undefined ? { enabled: nextEnabled } : {}),
      };
      const updated = await ctx.mutate(principal.label, async (m) => {
        const result = await m.banks.update(principal.orgId, bank.id, changes);
        await m.audit({
          orgId: principal.orgId,
          action: 'bank.update',
          subjectType: 'bank',
          subjectId: bank.id,
          detail: { changes, via: 'hma' },
        });
        return result;
      });
      await ctx.afterBankWrite();
      return bankJson(updated);
    },
  );

  app.delete<{ Params: Static<typeof BankParams> }>(
    '/c/bank/:bank',
    { config: { permission: 'banks:write' }, schema: { tags, params: BankParams } },
    async (request) => {
      const principal = principalOf(request);
      const bank = await ctx.banks.getVisibleByName(principal.orgId, request.params.bank);
      await ctx.mutate(principal.label, async (m) => {
        await m.banks.delete(principal.orgId, bank.id);
        await m.audit({
          orgId: principal.orgId,
          action: 'bank.delete',
          subjectType: 'bank',
          subjectId: bank.id,
          detail: { via: 'hma' },
        });
      });
      await ctx.afterBankWrite();
      return { message: `Bank ${bank.name} deleted` };
    },
  );

  const addSignals = async (
    principal: Principal,
    bankName: string,
    signals: { type: string; value: string }[],
    note?: string,
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
    const rows = signals.map((signal) =>
      prepareEntry({ signalType: signal.type, value: signal.value, note: note ?? null }, context),
    );
    return ctx.mutate(principal.label, async (m) => {
      let id = 0;
      const added: Record<string, string> = {};
      for (const row of rows) {
        const { entry, created } = await m.entries.add(row);
        if (created) {
          await m.audit({
            orgId: bank.orgId,
            action: 'entry.create',
            subjectType: 'entry',
            subjectId: entry.id,
            detail: { bank_id: bank.id, signal_type: entry.signalType, via: 'hma' },
          });
        }
        id ||= entry.id;
        added[hmaType(entry.signalType)] = entry.value;
      }
      return { id, signals: added };
    });
  };

  app.post<{ Params: Static<typeof BankParams> }>(
    '/c/bank/:bank/content',
    {
      config: { permission: 'entries:write' },
      schema: {
        tags,
        summary: 'HMA: hash an upload into a bank',
        params: BankParams,
        consumes: ['multipart/form-data'],
      },
    },
    async (request) => {
      const { buffer } = await uploadedFile(request);
      const hashed = await hashBuffer(buffer, hashOptions(ctx));
      const signals = signalsOf(hashed).filter(
        (s) => s.type === 'pdq' || s.type === 'vpdq' || (s.type === 'md5' && hashed.type === 'video'),
      );
      return addSignals(principalOf(request), request.params.bank, signals);
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
      },
    },
    async (request) => {
      const { note, ...hashes } = request.body;
      const signals = Object.entries(hashes).map(([type, value]) => ({ type: ourType(type), value }));
      return addSignals(principalOf(request), request.params.bank, signals, note);
    },
  );

  app.get<{
    Params: Static<typeof ContentParams>;
    Querystring: { include_signals?: boolean; include_metadata?: boolean };
  }>(
    '/c/bank/:bank/content/:id',
    { config: { permission: 'entries:read' }, schema: { tags, params: ContentParams } },
    async (request) => {
      const bank = await ctx.banks.getVisibleByName(principalOf(request).orgId, request.params.bank);
      const entry = await ctx.entries.get(bank.id, request.params.id);
      return {
        id: entry.id,
        disable_until_ts: entry.status === 'active' ? 1 : 0,
        original_media_uri: null,
        bank: bankJson(bank),
        signals: { [hmaType(entry.signalType)]: entry.value },
        ...(entry.note ? { note: entry.note } : {}),
      };
    },
  );

  app.put<{ Params: Static<typeof ContentParams>; Body: Static<typeof UpdateContent> }>(
    '/c/bank/:bank/content/:id',
    { config: { permission: 'entries:write' }, schema: { tags, params: ContentParams, body: UpdateContent } },
    async (request) => {
      const principal = principalOf(request);
      const bank = await ctx.banks.getVisibleByName(principal.orgId, request.params.bank);
      await ctx.banks.getOwned(principal.orgId, bank.id);
      const { disable_until_ts, note } = request.body;
      const changes = {
        ...(disable_until_ts !== undefined
          ? { status: disable_until_ts === 1 ? ('active' as const) : ('disabled' as const) }
          : {}),
        ...(note !== undefined ? { note } : {}),
      };
      const entry = await ctx.mutate(principal.label, async (m) => {
        const updated = await m.entries.update(bank.id, request.params.id, changes);
        await m.audit({
          orgId: bank.orgId,
          action: 'entry.update',
          subjectType: 'entry',
          subjectId: updated.id,
          detail: { bank_id: bank.id, changes, via: 'hma' },
        });
        return updated;
      });
      return { id: entry.id, disable_until_ts: entry.status === 'active' ? 1 : 0, bank: bankJson(bank) };
    },
  );

  app.delete<{ Params: Static<typeof ContentParams> }>(
    '/c/bank/:bank/content/:id',
    { config: { permission: 'entries:write' }, schema: { tags, params: ContentParams } },
    async (request) => {
      const principal = principalOf(request);
      const bank = await ctx.banks.getVisibleByName(principal.orgId, request.params.bank);
      await ctx.banks.getOwned(principal.orgId, bank.id);
      await ctx.mutate(principal.label, async (m) => {
        const deleted = await m.entries.delete(bank.id, request.params.id);
        await m.audit({
          orgId: bank.orgId,
          action: 'entry.delete',
          subjectType: 'entry',
          subjectId: deleted.id,
          detail: { bank_id: bank.id, via: 'hma' },
        });
      });
      return { deleted: 1 };
    },
  );
}
