/**
 * Entries: the signals in a bank. Every write takes numbers from the `entry_seq` counter inside its transaction,
 * so `changesSince(seq)` gives every process an ordered feed of changes to keep its in-memory index current.
 * The counter row is locked by the update until commit, so sequence order is commit order on PostgreSQL too.
 */
import { CompiledQuery, sql } from 'kysely';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { normalizeSignal } from '../signals/registry.js';
import { isCrisisLabel, validateLabels } from './labels.js';
import { nowIso, withTx, type Db, type Tx } from './database.js';
import { decodeCursor, pageLimit, toPage, type Page } from './pagination.js';
import type { EntryRow, NewEntryRow } from './schema.js';

export const ENTRY_STATUSES = ['active', 'disabled', 'disputed', 'retired'] as const;
export type EntryStatus = (typeof ENTRY_STATUSES)[number];
export const ENTRY_SOURCES = ['manual', 'import', 'exchange', 'submission'] as const;
export type EntrySource = (typeof ENTRY_SOURCES)[number];

export interface Entry {
  id: number;
  bankId: number;
  orgId: number;
  signalType: string;
  value: string;
  labels: string[];
  contributorOrgId: number;
  source: EntrySource;
  externalId: string | null;
  note: string | null;
  status: EntryStatus;
  createdAt: string;
  updatedAt: string;
  /** What an HMA client gave for this content (disable_until_ts, metadata), when it gave any. */
  hma?: HmaContentInfo;
}

export interface HmaContentInfo {
  disable_until_ts?: number;
  metadata?: { content_id?: string; content_uri?: string; json?: unknown };
}

export interface EntryInput {
  signalType: string;
  value: string;
  labels?: string[];
  note?: string | null;
  externalId?: string | null;
  status?: EntryStatus;
}

export interface EntryUpdate {
  labels?: string[];
  note?: string | null;
  status?: EntryStatus;
  hma?: HmaContentInfo | null;
}

/** One change for the index: an entry as it is now, or its deletion. */
export type EntryChange =
  | {
      kind: 'upsert';
      seq: number;
      id: number;
      bankId: number;
      signalType: string;
      value: string;
      status: EntryStatus;
    }
  | { kind: 'delete'; seq: number; id: number; bankId: number; signalType: string; value: string };

/** What the index needs of an entry at load time. */
export interface IndexableEntry {
  id: number;
  bankId: number;
  signalType: string;
  value: string;
  status: EntryStatus;
}

export function toEntry(row: EntryRow): Entry {
  return {
    id: row.id,
    bankId: row.bank_id,
    orgId: row.org_id,
    signalType: row.signal_type,
    value: row.value,
    labels: JSON.parse(row.labels) as string[],
    contributorOrgId: row.contributor_org_id,
    source: row.source as EntrySource,
    externalId: row.external_id,
    note: row.note,
    status: row.status as EntryStatus,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.hma ? { hma: JSON.parse(row.hma) as HmaContentInfo } : {}),
  };
}

function validateStatus(status: unknown): EntryStatus {
  if (!(ENTRY_STATUSES as readonly unknown[]).includes(status)) {
    throw new ValidationError(`status must be one of ${ENTRY_STATUSES.join(', ')}`, 'KAI_ERR_BAD_STATUS');
  }
  return status as EntryStatus;
}

function validateNote(note: unknown): string | null {
  if (note === undefined || note === null) return null;
  if (typeof note !== 'string' || note.length > 2000)
    throw new ValidationError('note must be a string of at most 2000 characters');
  return note;
}

function validateExternalId(id: unknown): string | null {
  if (id === undefined || id === null || id === '') return null;
  if (typeof id !== 'string' || id.length > 200)
    throw new ValidationError('external id must be a string of at most 200 characters');
  return id;
}

/** Validates one entry from outside and returns the row to insert (without seq). */
export function prepareEntry(
  input: EntryInput,
  context: {
    bankId: number;
    orgId: number;
    contributorOrgId: number;
    source: EntrySource;
    defaultLabels: string[];
    /** The time to stamp (a bulk import stamps one time on a whole batch instead of reading the clock per row). */
    now?: string;
  },
): Omit<NewEntryRow, 'seq'> {
  const signal = normalizeSignal(input.signalType, input.value);
  const now = context.now ?? nowIso();
  return {
    bank_id: context.bankId,
    org_id: context.orgId,
    signal_type: signal.type,
    value: signal.value,
    labels: JSON.stringify(
      input.labels === undefined || input.labels.length === 0
        ? context.defaultLabels
        : [...new Set([...validateLabels(input.labels), ...context.defaultLabels.filter(isCrisisLabel)])],
    ),
    contributor_org_id: context.contributorOrgId,
    source: context.source,
    external_id: validateExternalId(input.externalId),
    note: validateNote(input.note),
    status: input.status === undefined ? 'active' : validateStatus(input.status),
    created_at: now,
    updated_at: now,
  };
}

/** Takes `count` numbers from the change sequence; returns the first. Must run inside the write's transaction. */
export async function allocateSeq(tx: Tx, count: number): Promise<number> {
  const row = await tx
    .updateTable('counters')
    .set((eb) => ({ value: eb('value', '+', count) }))
    .where('name', '=', 'entry_seq')
    .returning('value')
    .executeTakeFirstOrThrow();
  return Number(row.value) - count + 1;
}

/** Tombstones for every entry of a bank, then deletes the entries; runs inside the bank deletion's transaction. */
export async function tombstoneBankEntries(tx: Tx, bankId: number): Promise<void> {
  const rows = await tx
    .selectFrom('entries')
    .select(['id', 'signal_type', 'value'])
    .where('bank_id', '=', bankId)
    .orderBy('id')
    .execute();
  if (rows.length === 0) return;
  const first = await allocateSeq(tx, rows.length);
  const now = nowIso();
  for (let start = 0; start < rows.length; start += 500) {
    const chunk = rows.slice(start, start + 500).map((r, i) => ({
      entry_id: r.id,
      bank_id: bankId,
      signal_type: r.signal_type,
      value: r.value,
      seq: first + start + i,
      deleted_at: now,
    }));
    await tx.insertInto('entry_tombstones').values(chunk).execute();
  }
  await tx.deleteFrom('entries').where('bank_id', '=', bankId).execute();
}

type BulkRow = Omit<NewEntryRow, 'seq'>;

/** The columns of a bulk insert, in the order bindBulkRow binds them. */
const BULK_COLUMNS = [
  'bank_id',
  'org_id',
  'signal_type',
  'value',
  'labels',
  'contributor_org_id',
  'source',
  'external_id',
  'note',
  'status',
  'created_at',
  'updated_at',
  'seq',
] as const satisfies readonly (keyof NewEntryRow)[];

/** Rows per bulk INSERT: 13 columns x 1,000 rows stays under SQLite's 32,766 and PostgreSQL's 65,535 parameters. */
const BULK_ROWS = 1000;

/** Appends one row's parameters in BULK_COLUMNS order (spelled out: a loop over column names is slower here). */
function bindBulkRow(params: unknown[], row: BulkRow, seq: number): void {
  params.push(
    row.bank_id,
    row.org_id,
    row.signal_type,
    row.value,
    row.labels ?? '[]',
    row.contributor_org_id,
    row.source,
    row.external_id ?? null,
    row.note ?? null,
    row.status ?? 'active',
    row.created_at,
    row.updated_at,
    seq,
  );
}

const bulkSql = new Map<string, string>();

/**
 * The text of a conflict-free INSERT of `rows` rows, as Kysely writes it for this dialect, kept by parameter style
 * and row count. Kysely builds and compiles a node per value, which costs more than SQLite's own work when a
 * million rows stream in; the statement text is the same every time, so it is compiled once and only bound after.
 */
function bulkInsertSql(tx: Tx, rows: number): string {
  const style = sql`${0}`.compile(tx).sql;
  const key = `${style}:${rows}`;
  let text = bulkSql.get(key);
  if (text === undefined) {
    const template = Object.fromEntries(BULK_COLUMNS.map((c) => [c, 0])) as unknown as NewEntryRow;
    text = conflictFreeInsert(
      tx,
      Array.from({ length: rows }, () => template),
    ).compile().sql;
    bulkSql.set(key, text);
  }
  return text;
}

/** Inserts entries, leaving any (bank, type, value) that exists already as it is. */
function conflictFreeInsert(tx: Tx, rows: NewEntryRow[]) {
  return tx
    .insertInto('entries')
    .values(rows)
    .onConflict((oc) => oc.columns(['bank_id', 'signal_type', 'value']).doNothing());
}

/**
 * Inserts rows numbered from `firstSeq` in the caller's transaction, skipping any (bank, type, value) already
 * present, through the compiled bulk statement; answers how many were new.
 */
export async function insertNumbered(tx: Tx, rows: readonly BulkRow[], firstSeq: number): Promise<number> {
  let inserted = 0;
  for (let start = 0; start < rows.length; start += BULK_ROWS) {
    // Between statements, whatever else is waiting (a match request answered from memory) runs: a long write
    // (a catch-up of 25,000 signals, an import batch) does not hold the whole process up.
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    const chunk = rows.slice(start, start + BULK_ROWS);
    const params: unknown[] = [];
    for (let i = 0; i < chunk.length; i++) bindBulkRow(params, chunk[i], firstSeq + start + i);
    const result = await tx.executeQuery(CompiledQuery.raw(bulkInsertSql(tx, chunk.length), params));
    inserted += Number(result.numAffectedRows ?? 0);
  }
  return inserted;
}

export class EntryService {
  constructor(private readonly db: Db) {}

  static creator() {
    return (db: Db) => new EntryService(db);
  }

  /**
   * Inserts prepared rows, skipping any (bank, type, value) already present. Returns the inserted entries.
   * Callers batch: one transaction and one sequence allocation per batch.
   */
  async insertMany(rows: Omit<NewEntryRow, 'seq'>[]): Promise<Entry[]> {
    const inserted: EntryRow[] = [];
    await this.insertChunks(rows, 500, async (insert) => {
      inserted.push(...(await insert.returningAll().execute()));
    });
    return inserted.map(toEntry);
  }

  /**
   * Adds many entries and answers how many were new (existing (bank, type, value) are skipped): the bulk path of
   * imports, which need only the count, so no rows are read back. One transaction for the whole batch; rows go in
   * as given, so ids and change-sequence numbers follow the file's order and of two equal keys the first wins.
   *
   * @NOTE Inserting in (signal_type, value) order instead was measured: it saved the statement journal's writes
   * while that was a file, and nothing measurable once it is in memory (database.ts); ids would then no longer
   * follow the file, which exports and listings show, so the rows keep their order.
   */
  async insertManyCounting(rows: BulkRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    return withTx(this.db, async (tx) => insertNumbered(tx, rows, await allocateSeq(tx, rows.length)));
  }

  /**
   * One transaction: change-sequence numbers for every row, then INSERT ... ON CONFLICT DO NOTHING statements of
   * `chunkSize` rows (which keeps each statement under SQLite's bound-parameter limit), each run by `run`.
   */
  private async insertChunks(
    rows: Omit<NewEntryRow, 'seq'>[],
    chunkSize: number,
    run: (insert: ReturnType<typeof conflictFreeInsert>) => Promise<void>,
  ): Promise<void> {
    if (rows.length === 0) return;
    await withTx(this.db, async (tx) => {
      const first = await allocateSeq(tx, rows.length);
      for (let start = 0; start < rows.length; start += chunkSize) {
        const chunk = rows
          .slice(start, start + chunkSize)
          .map((row, i) => ({ ...row, seq: first + start + i }));
        await run(conflictFreeInsert(tx, chunk));
      }
    });
  }

  /** Adds one entry; idempotent on (bank, type, value): an existing entry is returned with created = false. */
  async add(row: Omit<NewEntryRow, 'seq'>): Promise<{ entry: Entry; created: boolean }> {
    const [inserted] = await this.insertMany([row]);
    if (inserted) return { entry: inserted, created: true };
    const existing = await this.db
      .selectFrom('entries')
      .selectAll()
      .where('bank_id', '=', row.bank_id)
      .where('signal_type', '=', row.signal_type)
      .where('value', '=', row.value)
      .executeTakeFirstOrThrow();
    return { entry: toEntry(existing), created: false };
  }

  /** Disabled entries that carry HMA content information with a `disable_until_ts` (candidates to enable). */
  async disabledUntilCandidates(): Promise<
    { id: number; bankId: number; orgId: number; hma: HmaContentInfo }[]
  > {
    const rows = await this.db
      .selectFrom('entries')
      .select(['id', 'bank_id', 'org_id', 'hma'])
      .where('status', '=', 'disabled')
      .where('hma', 'like', '%disable_until_ts%')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      bankId: r.bank_id,
      orgId: r.org_id,
      hma: JSON.parse(r.hma ?? '{}') as HmaContentInfo,
    }));
  }

  /** An entry's status now, or null when it is gone. */
  async statusOf(entryId: number): Promise<string | null> {
    const row = await this.db
      .selectFrom('entries')
      .select('status')
      .where('id', '=', entryId)
      .executeTakeFirst();
    return row?.status ?? null;
  }

  /** The bank's entry of this (canonical) signal, if any. */
  async findByValue(bankId: number, signalType: string, value: string): Promise<Entry | null> {
    const row = await this.db
      .selectFrom('entries')
      .selectAll()
      .where('bank_id', '=', bankId)
      .where('signal_type', '=', signalType)
      .where('value', '=', value)
      .executeTakeFirst();
    return row ? toEntry(row) : null;
  }

  async get(bankId: number, entryId: number): Promise<Entry> {
    const row = await this.db
      .selectFrom('entries')
      .selectAll()
      .where('id', '=', entryId)
      .where('bank_id', '=', bankId)
      .executeTakeFirst();
    if (!row)
      throw new NotFoundError(`entry ${entryId} not found in bank ${bankId}`, 'KAI_ERR_ENTRY_NOT_FOUND');
    return toEntry(row);
  }

  async getMany(ids: number[]): Promise<Map<number, Entry>> {
    const out = new Map<number, Entry>();
    for (let start = 0; start < ids.length; start += 500) {
      const rows = await this.db
        .selectFrom('entries')
        .selectAll()
        .where('id', 'in', ids.slice(start, start + 500))
        .execute();
      for (const row of rows) out.set(row.id, toEntry(row));
    }
    return out;
  }

  /** The notes of these entries (one query: for the few entries a case's evidence names). */
  async notes(ids: readonly number[]): Promise<Map<number, string | null>> {
    const rows = await this.db.selectFrom('entries').select(['id', 'note']).where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [r.id, r.note]));
  }

  async update(bankId: number, entryId: number, update: EntryUpdate): Promise<Entry> {
    const set: Partial<EntryRow> = { updated_at: nowIso() };
    if (update.labels !== undefined) set.labels = JSON.stringify(validateLabels(update.labels));
    if (update.note !== undefined) set.note = validateNote(update.note);
    if (update.status !== undefined) set.status = validateStatus(update.status);
    if (update.hma !== undefined) set.hma = update.hma === null ? null : JSON.stringify(update.hma);
    const row = await withTx(this.db, async (tx) => {
      if (update.status !== undefined && update.hma === undefined) {
        // A status set by anyone else ends an HMA `disable_until_ts`: that time must not re-enable it later.
        const current = await tx
          .selectFrom('entries')
          .select('hma')
          .where('id', '=', entryId)
          .executeTakeFirst();
        if (current?.hma) {
          const { disable_until_ts: _ended, ...rest } = JSON.parse(current.hma) as HmaContentInfo;
          if (_ended !== undefined) set.hma = Object.keys(rest).length ? JSON.stringify(rest) : null;
        }
      }
      const seq = await allocateSeq(tx, 1);
      return tx
        .updateTable('entries')
        .set({ ...set, seq })
        .where('id', '=', entryId)
        .where('bank_id', '=', bankId)
        .returningAll()
        .executeTakeFirst();
    });
    if (!row)
      throw new NotFoundError(`entry ${entryId} not found in bank ${bankId}`, 'KAI_ERR_ENTRY_NOT_FOUND');
    return toEntry(row);
  }

  /**
   * Rewrites the labels of every entry of a bank (the crisis engine marking an incident live or concluded), each
   * with a new change number so that the index, policies and members following the bank see it.
   */
  async relabelBank(
    bankId: number,
    edit: (labels: string[], createdAt: string) => string[],
  ): Promise<number> {
    return withTx(this.db, async (tx) => {
      const rows = await tx
        .selectFrom('entries')
        .select(['id', 'labels', 'created_at'])
        .where('bank_id', '=', bankId)
        .orderBy('id')
        .execute();
      if (rows.length === 0) return 0;
      const first = await allocateSeq(tx, rows.length);
      const now = nowIso();
      for (const [i, row] of rows.entries()) {
        const labels = edit(JSON.parse(row.labels) as string[], row.created_at);
        await tx
          .updateTable('entries')
          .set({ labels: JSON.stringify(labels), seq: first + i, updated_at: now })
          .where('id', '=', row.id)
          .execute();
      }
      return rows.length;
    });
  }

  async delete(bankId: number, entryId: number): Promise<Entry> {
    const row = await withTx(this.db, async (tx) => {
      const deleted = await tx
        .deleteFrom('entries')
        .where('id', '=', entryId)
        .where('bank_id', '=', bankId)
        .returningAll()
        .executeTakeFirst();
      if (!deleted) return undefined;
      const seq = await allocateSeq(tx, 1);
      await tx
        .insertInto('entry_tombstones')
        .values({
          entry_id: deleted.id,
          bank_id: deleted.bank_id,
          signal_type: deleted.signal_type,
          value: deleted.value,
          seq,
          deleted_at: nowIso(),
        })
        .execute();
      return deleted;
    });
    if (!row)
      throw new NotFoundError(`entry ${entryId} not found in bank ${bankId}`, 'KAI_ERR_ENTRY_NOT_FOUND');
    return toEntry(row);
  }

  async list(
    bankId: number,
    options: {
      cursor?: string;
      limit?: number;
      signalType?: string;
      status?: EntryStatus;
      label?: string;
    } = {},
  ): Promise<Page<Entry>> {
    const limit = pageLimit(options.limit);
    let query = this.db
      .selectFrom('entries')
      .selectAll()
      .where('bank_id', '=', bankId)
      .where('id', '>', decodeCursor(options.cursor));
    if (options.signalType) query = query.where('signal_type', '=', options.signalType);
    if (options.status) query = query.where('status', '=', validateStatus(options.status));
    if (options.label) query = query.where('labels', 'like', `%${JSON.stringify(options.label)}%`);
    const rows = await query
      .orderBy('id')
      .limit(limit + 1)
      .execute();
    return toPage(rows, limit, toEntry);
  }

  async count(bankId?: number): Promise<number> {
    let query = this.db.selectFrom('entries').select((eb) => eb.fn.countAll<number>().as('n'));
    if (bankId !== undefined) query = query.where('bank_id', '=', bankId);
    return Number((await query.executeTakeFirstOrThrow()).n);
  }

  /** The sequence number of the latest change (0 when nothing has changed yet). */
  async currentSeq(): Promise<number> {
    const row = await this.db
      .selectFrom('counters')
      .select('value')
      .where('name', '=', 'entry_seq')
      .executeTakeFirstOrThrow();
    return Number(row.value);
  }

  /** Changes after `seq`, oldest first, at most `limit`. */
  async changesSince(seq: number, limit = 10_000): Promise<EntryChange[]> {
    const [upserts, deletes] = await Promise.all([
      this.db
        .selectFrom('entries')
        .select(['id', 'bank_id', 'signal_type', 'value', 'status', 'seq'])
        .where('seq', '>', seq)
        .orderBy('seq')
        .limit(limit)
        .execute(),
      this.db
        .selectFrom('entry_tombstones')
        .select(['entry_id', 'bank_id', 'signal_type', 'value', 'seq'])
        .where('seq', '>', seq)
        .orderBy('seq')
        .limit(limit)
        .execute(),
    ]);
    const changes: EntryChange[] = [
      ...upserts.map((r) => ({
        kind: 'upsert' as const,
        seq: Number(r.seq),
        id: r.id,
        bankId: r.bank_id,
        signalType: r.signal_type,
        value: r.value,
        status: r.status as EntryStatus,
      })),
      ...deletes.map((r) => ({
        kind: 'delete' as const,
        seq: Number(r.seq),
        id: r.entry_id,
        bankId: r.bank_id,
        signalType: r.signal_type,
        value: r.value,
      })),
    ];
    return changes.sort((a, b) => a.seq - b.seq).slice(0, limit);
  }

  /** Every entry in id order, in batches: the index's start-up load, in bounded memory. */
  async *streamAll(batchSize = 20_000): AsyncGenerator<IndexableEntry[]> {
    let after = 0;
    for (;;) {
      const rows = await this.db
        .selectFrom('entries')
        .select(['id', 'bank_id', 'signal_type', 'value', 'status'])
        .where('id', '>', after)
        .orderBy('id')
        .limit(batchSize)
        .execute();
      if (rows.length === 0) return;
      after = rows[rows.length - 1].id;
      yield rows.map((r) => ({
        id: r.id,
        bankId: r.bank_id,
        signalType: r.signal_type,
        value: r.value,
        status: r.status as EntryStatus,
      }));
    }
  }

  /** Entries of one bank in id order, in batches (exports). */
  async *streamBank(bankId: number, batchSize = 5_000): AsyncGenerator<Entry[]> {
    let after = 0;
    for (;;) {
      const rows = await this.db
        .selectFrom('entries')
        .selectAll()
        .where('bank_id', '=', bankId)
        .where('id', '>', after)
        .orderBy('id')
        .limit(batchSize)
        .execute();
      if (rows.length === 0) return;
      after = rows[rows.length - 1].id;
      yield rows.map(toEntry);
    }
  }
}
