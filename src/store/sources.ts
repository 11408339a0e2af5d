/**
 * Subscriptions to external lists (src/sources/), their quarantine, and the writes into their read-only mirror
 * banks. An organisation sees only its own subscriptions: asking for another's is answered as for one that does
 * not exist. The runner's writes (entries, quarantine, checkpoint, counters) all take the transaction they run in.
 */
import { ConflictError, NotFoundError } from '../core/errors.js';
import { BankService, type Bank } from './banks.js';
import { nowIso, type Db, type Tx } from './database.js';
import { allocateSeq, insertNumbered, tombstoneBankEntries } from './entries.js';
import { decodeCursor, pageLimit, toPage, type Page } from './pagination.js';
import type { NewEntryRow, SourceSubscriptionsTable } from './schema.js';
import type { Selectable } from 'kysely';

export interface Subscription {
  id: number;
  orgId: number;
  name: string;
  kind: string;
  /** As stored: the kind's configuration, secrets included (views redact it through the kind). */
  config: unknown;
  bankId: number | null;
  enabled: boolean;
  intervalSeconds: number;
  checkpoint: string | null;
  lastFetchAt: string | null;
  lastSuccessAt: string | null;
  caughtUpAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  lagRecords: number | null;
  recordsUpserted: number;
  recordsDeleted: number;
  recordsQuarantined: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface QuarantinedRecord {
  id: number;
  subscriptionId: number;
  reason: string;
  raw: string;
  createdAt: string;
}

export interface SubscriptionInput {
  name: string;
  kind: string;
  config: unknown;
  intervalSeconds: number;
  createdBy: string;
}

/** What one page changes in a mirror bank: entries to add or change, signals to delete. */
export interface MirrorWrite {
  upserts: Omit<NewEntryRow, 'seq'>[];
  deletes: { signalType: string; value: string }[];
  /** A whole-list page: every entry whose `type\tvalue` is not in this set is deleted too. */
  snapshotKeep?: Set<string>;
}

export interface PageOutcome {
  checkpoint: string | null;
  upserted: number;
  deleted: number;
  quarantined: number;
  caughtUp: boolean;
  lagRecords: number | null;
}

type SubscriptionRow = Selectable<SourceSubscriptionsTable>;

/** What applyMirror compares of an entry the mirror holds. */
interface MirrorRow {
  id: number;
  labels: string;
  external_id: string | null;
  note: string | null;
  status: string;
}

function groupValue(byType: Map<string, Set<string>>, type: string, value: string): void {
  let values = byType.get(type);
  if (!values) byType.set(type, (values = new Set()));
  values.add(value);
}

export const mirrorKey = (signalType: string, value: string) => `${signalType}\t${value}`;

function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    kind: row.kind,
    config: JSON.parse(row.config) as unknown,
    bankId: row.bank_id,
    enabled: row.enabled === 1,
    intervalSeconds: row.interval_seconds,
    checkpoint: row.checkpoint,
    lastFetchAt: row.last_fetch_at,
    lastSuccessAt: row.last_success_at,
    caughtUpAt: row.caught_up_at,
    lastError: row.last_error,
    lastErrorAt: row.last_error_at,
    lagRecords: row.lag_records === null ? null : Number(row.lag_records),
    recordsUpserted: Number(row.records_upserted),
    recordsDeleted: Number(row.records_deleted),
    recordsQuarantined: Number(row.records_quarantined),
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const MAX_RAW = 8192;

export class SubscriptionStore {
  constructor(private readonly db: Db) {}

  static creator() {
    return (db: Db) => new SubscriptionStore(db);
  }

  /** Creates the subscription and its mirror bank (of the same name) in the caller's transaction. */
  async create(orgId: number, input: SubscriptionInput): Promise<Subscription> {
    const clash = await this.db
      .selectFrom('source_subscriptions')
      .select('id')
      .where('org_id', '=', orgId)
      .where('name', '=', input.name)
      .executeTakeFirst();
    if (clash)
      throw new ConflictError(
        `your organisation has a subscription named "${input.name}" already`,
        'KAI_ERR_SUBSCRIPTION_EXISTS',
      );
    const now = nowIso();
    const row = await this.db
      .insertInto('source_subscriptions')
      .values({
        org_id: orgId,
        name: input.name,
        kind: input.kind,
        config: JSON.stringify(input.config),
        bank_id: null,
        interval_seconds: input.intervalSeconds,
        checkpoint: null,
        last_fetch_at: null,
        last_success_at: null,
        caught_up_at: null,
        last_error: null,
        last_error_at: null,
        lag_records: null,
        created_by: input.createdBy,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await this.ensureMirrorBank(toSubscription(row));
    return this.getById(row.id);
  }

  /**
   * The subscription's mirror bank, created (named as the subscription, marked read-only) when it has none yet.
   * Answers whether it was created (the bank rules must then be reloaded after commit).
   */
  async ensureMirrorBank(subscription: Subscription): Promise<{ bank: Bank; created: boolean }> {
    const banks = new BankService(this.db);
    if (subscription.bankId !== null) {
      const existing = await this.db
        .selectFrom('banks')
        .select('id')
        .where('id', '=', subscription.bankId)
        .executeTakeFirst();
      if (existing) return { bank: await banks.getVisible(subscription.orgId, existing.id), created: false };
    }
    const bank = await banks.create(subscription.orgId, {
      name: subscription.name,
      description: `read-only mirror of the ${subscription.kind} subscription "${subscription.name}"`,
    });
    await this.db
      .updateTable('banks')
      .set({ managed_by: `subscription:${subscription.id}` })
      .where('id', '=', bank.id)
      .execute();
    await this.db
      .updateTable('source_subscriptions')
      .set({ bank_id: bank.id, updated_at: nowIso() })
      .where('id', '=', subscription.id)
      .execute();
    return { bank: { ...bank, managedBy: `subscription:${subscription.id}` }, created: true };
  }

  async getById(id: number): Promise<Subscription> {
    const row = await this.db
      .selectFrom('source_subscriptions')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`subscription ${id} not found`, 'KAI_ERR_SUBSCRIPTION_NOT_FOUND');
    return toSubscription(row);
  }

  /** One of the organisation's subscriptions; NotFoundError for any other (never revealing that it exists). */
  async get(orgId: number, id: number): Promise<Subscription> {
    const row = await this.db
      .selectFrom('source_subscriptions')
      .selectAll()
      .where('id', '=', id)
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`subscription ${id} not found`, 'KAI_ERR_SUBSCRIPTION_NOT_FOUND');
    return toSubscription(row);
  }

  async getByName(orgId: number, name: string): Promise<Subscription> {
    const row = await this.db
      .selectFrom('source_subscriptions')
      .selectAll()
      .where('name', '=', name)
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`subscription "${name}" not found`, 'KAI_ERR_SUBSCRIPTION_NOT_FOUND');
    return toSubscription(row);
  }

  async list(orgId: number, options: { cursor?: string; limit?: number } = {}): Promise<Page<Subscription>> {
    const limit = pageLimit(options.limit);
    const rows = await this.db
      .selectFrom('source_subscriptions')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '>', decodeCursor(options.cursor))
      .orderBy('id')
      .limit(limit + 1)
      .execute();
    return toPage(rows, limit, toSubscription);
  }

  /** Every enabled subscription of every organisation (the scheduler's list): id and interval. */
  async enabled(): Promise<{ id: number; intervalSeconds: number }[]> {
    const rows = await this.db
      .selectFrom('source_subscriptions')
      .select(['id', 'interval_seconds'])
      .where('enabled', '=', 1)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ id: r.id, intervalSeconds: r.interval_seconds }));
  }

  async setEnabled(orgId: number, id: number, enabled: boolean): Promise<Subscription> {
    await this.get(orgId, id);
    await this.db
      .updateTable('source_subscriptions')
      .set({ enabled: enabled ? 1 : 0, updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
    return this.get(orgId, id);
  }

  /** Deletes the subscription, its quarantine and its mirror bank (leaving tombstones for every index). */
  async delete(orgId: number, id: number): Promise<Subscription> {
    const subscription = await this.get(orgId, id);
    await this.db.deleteFrom('source_quarantine').where('subscription_id', '=', id).execute();
    await this.db.deleteFrom('source_subscriptions').where('id', '=', id).execute();
    if (subscription.bankId !== null) {
      await tombstoneBankEntries(this.db, subscription.bankId);
      await this.db.deleteFrom('bank_shares').where('bank_id', '=', subscription.bankId).execute();
      await this.db.deleteFrom('banks').where('id', '=', subscription.bankId).execute();
    }
    return subscription;
  }

  /** A run started: when, for the status views. */
  /** A run failed (nothing of it was stored): the error, for the status views. */
  async markFailure(id: number, message: string): Promise<void> {
    const now = nowIso();
    await this.db
      .updateTable('source_subscriptions')
      .set({ last_error: message.slice(0, 2000), last_error_at: now, last_fetch_at: now })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Ends a page in its transaction: the new checkpoint and counters, only if the checkpoint is still the one the
   * page was fetched from. False when another run got there first: the caller rolls everything back.
   */
  async advance(id: number, from: string | null, outcome: PageOutcome): Promise<boolean> {
    const now = nowIso();
    const result = await this.db
      .updateTable('source_subscriptions')
      .set((eb) => ({
        checkpoint: outcome.checkpoint ?? from,
        records_upserted: eb('records_upserted', '+', outcome.upserted),
        records_deleted: eb('records_deleted', '+', outcome.deleted),
        records_quarantined: eb('records_quarantined', '+', outcome.quarantined),
        last_success_at: now,
        // Set here and on failure rather than before each fetch: one write fewer per page of a catch-up.
        last_fetch_at: now,
        last_error: null,
        last_error_at: null,
        lag_records: outcome.lagRecords,
        ...(outcome.caughtUp ? { caught_up_at: now } : {}),
        updated_at: now,
      }))
      .where('id', '=', id)
      .where('checkpoint', from === null ? 'is' : '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async quarantine(id: number, items: { reason: string; raw: string }[]): Promise<void> {
    const now = nowIso();
    for (let start = 0; start < items.length; start += 200) {
      await this.db
        .insertInto('source_quarantine')
        .values(
          items.slice(start, start + 200).map((q) => ({
            subscription_id: id,
            reason: q.reason.slice(0, 2000),
            raw: q.raw.length > MAX_RAW ? q.raw.slice(0, MAX_RAW) + '…' : q.raw,
            created_at: now,
          })),
        )
        .execute();
    }
  }

  async quarantined(
    orgId: number,
    id: number,
    options: { cursor?: string; limit?: number } = {},
  ): Promise<Page<QuarantinedRecord>> {
    await this.get(orgId, id);
    const limit = pageLimit(options.limit);
    const rows = await this.db
      .selectFrom('source_quarantine')
      .selectAll()
      .where('subscription_id', '=', id)
      .where('id', '>', decodeCursor(options.cursor))
      .orderBy('id')
      .limit(limit + 1)
      .execute();
    return toPage(rows, limit, (r) => ({
      id: r.id,
      subscriptionId: r.subscription_id,
      reason: r.reason,
      raw: r.raw,
      createdAt: r.created_at,
    }));
  }

  /**
   * Applies a page to the mirror bank in the caller's transaction: new signals inserted, changed ones (labels,
   * external id, note) updated, others left alone (so an unchanged re-fetch moves no index), deletions
   * tombstoned. Every change takes its number from the entry change sequence, so every index follows.
   */
  async applyMirror(bankId: number, write: MirrorWrite): Promise<{ upserted: number; deleted: number }> {
    const tx: Tx = this.db;
    const existing = new Map<string, MirrorRow>();
    const load = (rows: (MirrorRow & { signal_type: string; value: string })[]) => {
      for (const r of rows) existing.set(mirrorKey(r.signal_type, r.value), r);
    };
    const columns = ['id', 'signal_type', 'value', 'labels', 'external_id', 'note', 'status'] as const;
    /** The mirror's current rows of these signals, by (bank, type, value): the unique index answers each at once. */
    const lookUp = async (signals: { type: string; value: string }[]) => {
      const byType = new Map<string, Set<string>>();
      for (const { type, value } of signals) groupValue(byType, type, value);
      for (const [type, set] of byType) {
        const values = [...set];
        for (let start = 0; start < values.length; start += 500) {
          if (start > 0) await new Promise((resolve) => setImmediate(resolve)); // see insertNumbered
          load(
            await tx
              .selectFrom('entries')
              .select(columns)
              .where('bank_id', '=', bankId)
              .where('signal_type', '=', type)
              .where('value', 'in', values.slice(start, start + 500))
              .execute(),
          );
        }
      }
    };
    let candidates = write.upserts;
    let insertedFirst = 0;
    if (write.snapshotKeep) {
      let after = 0;
      for (;;) {
        const rows = await tx
          .selectFrom('entries')
          .select(columns)
          .where('bank_id', '=', bankId)
          .where('id', '>', after)
          .orderBy('id')
          .limit(20_000)
          .execute();
        if (rows.length === 0) break;
        load(rows);
        after = rows[rows.length - 1].id;
      }
    } else {
      await lookUp(write.deletes.map((d) => ({ type: d.signalType, value: d.value })));
      if (write.upserts.length > 0) {
        // Inserted first: in a catch-up nearly every signal is new, and looking each up before would be wasted.
        // Those already there (the insert skipped them) are looked up after, and changed where they differ; the
        // rows just inserted are found equal and left alone.
        insertedFirst = await insertNumbered(tx, write.upserts, await allocateSeq(tx, write.upserts.length));
        if (insertedFirst === write.upserts.length) candidates = [];
        else await lookUp(write.upserts.map((u) => ({ type: u.signal_type, value: u.value })));
      }
    }

    const inserts: Omit<NewEntryRow, 'seq'>[] = [];
    const updates: { id: number; row: Omit<NewEntryRow, 'seq'> }[] = [];
    for (const row of candidates) {
      const current = existing.get(mirrorKey(row.signal_type, row.value));
      if (!current) inserts.push(row);
      else if (
        current.labels !== row.labels ||
        current.external_id !== (row.external_id ?? null) ||
        current.note !== (row.note ?? null) ||
        current.status !== 'active'
      )
        updates.push({ id: current.id, row });
    }
    const deleteIds = new Set<number>();
    for (const d of write.deletes) {
      const current = existing.get(mirrorKey(d.signalType, d.value));
      if (current) deleteIds.add(current.id);
    }
    if (write.snapshotKeep)
      for (const [key, current] of existing) if (!write.snapshotKeep.has(key)) deleteIds.add(current.id);

    const changes = inserts.length + updates.length + deleteIds.size;
    if (changes === 0) return { upserted: insertedFirst, deleted: 0 };
    let seq = await allocateSeq(tx, changes);
    await insertNumbered(tx, inserts, seq);
    seq += inserts.length;
    for (const { id, row } of updates) {
      await tx
        .updateTable('entries')
        .set({
          labels: row.labels,
          external_id: row.external_id ?? null,
          note: row.note ?? null,
          status: 'active',
          updated_at: row.updated_at,
          seq: seq++,
        })
        .where('id', '=', id)
        .execute();
    }
    const ids = [...deleteIds];
    const now = nowIso();
    for (let start = 0; start < ids.length; start += 500) {
      const deleted = await tx
        .deleteFrom('entries')
        .where('id', 'in', ids.slice(start, start + 500))
        .returning(['id', 'bank_id', 'signal_type', 'value'])
        .execute();
      if (deleted.length === 0) continue;
      await tx
        .insertInto('entry_tombstones')
        .values(
          deleted.map((d) => ({
            entry_id: d.id,
            bank_id: d.bank_id,
            signal_type: d.signal_type,
            value: d.value,
            seq: seq++,
            deleted_at: now,
          })),
        )
        .execute();
    }
    return { upserted: insertedFirst + inserts.length + updates.length, deleted: ids.length };
  }
}
