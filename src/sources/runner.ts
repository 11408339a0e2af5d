/**
 * SourceRunner: one run (`tick`) of one subscription. It loads the checkpoint, asks the source for the page after
 * it, validates every record (normalizeSignal and the entry rules), and in ONE transaction writes the good records
 * into the subscription's read-only mirror bank, quarantines the bad ones with their reason, appends an audit
 * record, and advances the checkpoint — only if it is still the one the page was fetched from (one unit of work). So a crash before
 * the commit leaves nothing (the page is fetched again), after it leaves everything (the next page follows), and
 * two runs of the same subscription (two processes) never apply a page twice. A bad record never stalls the run:
 * it is quarantined and the checkpoint moves past it. After the commit the index catches up at once.
 */
import { errorMessage } from '../core/errors.js';
import { normalizeSignal } from '../signals/registry.js';
import type { Db } from '../store/database.js';
import type { Transactions } from '../store/unit-of-work.js';
import { prepareEntry } from '../store/entries.js';
import type { NewEntryRow } from '../store/schema.js';
import { mirrorKey, SubscriptionStore, type MirrorWrite } from '../store/sources.js';
import { getSourceKind } from './registry.js';
import type { Source, SourceDeps, SourcePage, SourceRecord } from './source.js';

export interface TickResult {
  subscriptionId: number;
  status: 'applied' | 'unchanged' | 'failed' | 'disabled' | 'superseded';
  upserted: number;
  deleted: number;
  quarantined: number;
  /** The source has more pages ready now. */
  hasMore: boolean;
  /** A long-polling source: ask again at once to keep following it, caught up or not. */
  again?: boolean;
  error?: string;
}

export interface SourceRunnerDeps {
  /** For reads and the run's bookkeeping (last fetch, last error). */
  db: Db;
  /** A page is one unit of work; the index catches up after every commit. */
  transactions: Transactions;
  sources: SourceDeps;
  /** After a committed page that created the mirror bank: reload the bank rules. */
  afterBankWrite(): Promise<void>;
}

interface Validated {
  write: MirrorWrite;
  quarantine: { reason: string; raw: string }[];
}

/** Checks every record; the last record about a signal in a page wins (a page may change a signal twice). */
export function validateRecords(
  records: SourceRecord[],
  bank: { id: number; orgId: number },
  snapshot: boolean,
): Validated {
  const latest = new Map<
    string,
    { op: 'upsert'; row: Omit<NewEntryRow, 'seq'> } | { op: 'delete'; signalType: string; value: string }
  >();
  const quarantine: { reason: string; raw: string }[] = [];
  const keep = new Set<string>();
  const now = new Date().toISOString(); // one time for the page: its rows are stored together
  const bad = (record: SourceRecord, reason: string) =>
    quarantine.push({ reason: record.where ? `${record.where}: ${reason}` : reason, raw: record.raw });
  for (const record of records) {
    if (record.op === 'unreadable') {
      bad(record, record.reason);
      continue;
    }
    let signal: { type: string; value: string };
    try {
      signal = normalizeSignal(record.signalType, record.value);
    } catch (err) {
      bad(record, errorMessage(err));
      continue;
    }
    const key = mirrorKey(signal.type, signal.value);
    if (record.op === 'delete') {
      latest.set(key, { op: 'delete', signalType: signal.type, value: signal.value });
      keep.delete(key);
      continue;
    }
    // A readable signal in a bad row is kept as it was (see list.ts): only a missing or deleted row removes it.
    keep.add(key);
    try {
      const row = prepareEntry(
        {
          signalType: signal.type,
          value: signal.value,
          labels: record.labels,
          note: record.note ?? null,
          externalId: record.externalId ?? null,
        },
        {
          bankId: bank.id,
          orgId: bank.orgId,
          contributorOrgId: bank.orgId,
          source: 'exchange',
          defaultLabels: [],
          now,
        },
      );
      latest.set(key, { op: 'upsert', row });
    } catch (err) {
      bad(record, errorMessage(err));
    }
  }
  const write: MirrorWrite = { upserts: [], deletes: [] };
  for (const change of latest.values()) {
    if (change.op === 'upsert') write.upserts.push(change.row);
    else write.deletes.push({ signalType: change.signalType, value: change.value });
  }
  if (snapshot) write.snapshotKeep = keep;
  return { write, quarantine };
}

/** Records one run stores at most when a source has several pages ready (one transaction). */
const RUN_RECORDS = 25_000;

/** Pages asked for ahead of time: valid only while the subscription's configuration is this one. */
interface Prefetch {
  config: string;
  /** By the checkpoint each page was asked from. */
  pages: Map<string, Promise<SourcePage>>;
}

/** Pages a catch-up asks for ahead of the one being stored. */
const PAGES_AHEAD = 6;

export class SourceRunner {
  private readonly running = new Map<number, Promise<TickResult>>();
  private readonly prefetched = new Map<number, Prefetch>();
  private stopping = false;

  constructor(private readonly deps: SourceRunnerDeps) {}

  /** One run of the subscription; runs of the same subscription in this process queue behind each other. */
  tick(subscriptionId: number): Promise<TickResult> {
    const previous = this.running.get(subscriptionId) ?? Promise.resolve(null);
    const next = previous.then(() => this.run(subscriptionId));
    const tracked = next.finally(() => {
      if (this.running.get(subscriptionId) === tracked) this.running.delete(subscriptionId);
    });
    this.running.set(subscriptionId, tracked);
    return tracked;
  }

  /** Catch-up loops end after their current run (the process is closing). */
  stop(): void {
    this.stopping = true;
  }

  /** Resolves when no run is under way (before the database closes). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  /**
   * Runs until the source has nothing more ready (at most `maxPages` pages); with `follow` (the scheduler), a
   * long-polling source is asked again at once even when caught up, so it keeps a request open on the hub.
   */
  async catchUp(subscriptionId: number, maxPages = 100, follow = false): Promise<TickResult[]> {
    const results: TickResult[] = [];
    for (let i = 0; i < maxPages && !this.stopping; i++) {
      const result = await this.tick(subscriptionId);
      results.push(result);
      if (result.status === 'failed' || result.status === 'disabled') break;
      if (!result.hasMore && !(follow && result.again)) break;
    }
    return results;
  }

  private async run(subscriptionId: number): Promise<TickResult> {
    const store = new SubscriptionStore(this.deps.db);
    const empty = { subscriptionId, upserted: 0, deleted: 0, quarantined: 0, hasMore: false };
    const subscription = await store.getById(subscriptionId);
    if (!subscription.enabled) return { ...empty, status: 'disabled' };
    try {
      const kind = getSourceKind(subscription.kind);
      const source = kind.create(kind.parseConfig(subscription.config, this.deps.sources), this.deps.sources);
      const from = subscription.checkpoint;
      const page = await this.pagesFrom(subscriptionId, subscription.config, source, from);
      const outcome = await this.deps.transactions.run(`subscription:${subscriptionId}`, async (unit) => {
        const txStore = new SubscriptionStore(unit.db);
        const mirror = await txStore.ensureMirrorBank(await txStore.getById(subscriptionId));
        if (mirror.created) unit.onCommit(() => this.deps.afterBankWrite());
        const { write, quarantine } = validateRecords(page.records, mirror.bank, page.snapshot === true);
        const applied = await txStore.applyMirror(mirror.bank.id, write);
        await txStore.quarantine(subscriptionId, quarantine);
        const advanced = await txStore.advance(subscriptionId, from, {
          checkpoint: page.checkpoint,
          upserted: applied.upserted,
          deleted: applied.deleted,
          quarantined: quarantine.length,
          caughtUp: !page.hasMore,
          lagRecords: page.lagRecords ?? null,
        });
        if (!advanced) throw new Superseded();
        if (applied.upserted + applied.deleted + quarantine.length > 0)
          await unit.audit({
            orgId: subscription.orgId,
            action: 'subscription.sync',
            subjectType: 'subscription',
            subjectId: subscriptionId,
            detail: {
              bank_id: mirror.bank.id,
              upserted: applied.upserted,
              deleted: applied.deleted,
              quarantined: quarantine.length,
              checkpoint: page.checkpoint ?? from,
            },
          });
        return { ...applied, quarantined: quarantine.length };
      });
      const changed = outcome.upserted + outcome.deleted + outcome.quarantined > 0;
      return {
        ...empty,
        ...outcome,
        hasMore: page.hasMore,
        again: page.again === true,
        status: changed ? 'applied' : 'unchanged',
      };
    } catch (err) {
      if (err instanceof Superseded) return { ...empty, status: 'superseded' };
      const message = errorMessage(err);
      await store.markFailure(subscriptionId, message);
      return { ...empty, status: 'failed', error: message };
    }
  }

  /**
   * What one run stores: the page after `from` and, while the source has more ready (a catch-up), the pages after
   * it, up to RUN_RECORDS records, as one page. A commit rewrites every index page its rows touched, so a catch-up
   * of a million signals in runs of 25,000 writes a fraction of what runs of one source page (5,000) write.
   */
  private async pagesFrom(
    subscriptionId: number,
    config: unknown,
    source: Source,
    from: string | null,
  ): Promise<SourcePage> {
    let page = await this.fetch(subscriptionId, config, source, from);
    if (page.snapshot || !page.hasMore || !page.combinable) return page;
    const records = [...page.records];
    while (
      page.hasMore &&
      page.combinable &&
      page.checkpoint !== null &&
      records.length < RUN_RECORDS &&
      !this.stopping
    ) {
      page = await this.fetch(subscriptionId, config, source, page.checkpoint);
      if (page.snapshot) throw new Error('a source answered a snapshot page in the middle of a catch-up');
      records.push(...page.records);
    }
    return { ...page, records };
  }

  /**
   * The page after `from`: the one fetched ahead if it was asked from this checkpoint with this configuration, else
   * fetched now. While a source has more ready (a catch-up), the next page is asked for at once, so the network and
   * the other side's work overlap with storing this one; a page fetched ahead for a checkpoint that did not come
   * to be (a failed run, a change of configuration) is dropped.
   */
  private async fetch(
    subscriptionId: number,
    config: unknown,
    source: Source,
    from: string | null,
  ): Promise<SourcePage> {
    const configText = JSON.stringify(config);
    const chain = this.prefetched.get(subscriptionId);
    const ahead = chain?.config === configText && from !== null ? chain.pages.get(from) : undefined;
    if (ahead) chain!.pages.delete(from!);
    else this.prefetched.delete(subscriptionId); // fetched for checkpoints that did not come to be
    const page = await (ahead ?? source.fetchPage(from));
    if (page.hasMore && page.checkpoint !== null && !this.stopping)
      this.fetchAhead(subscriptionId, configText, source, page.checkpoint, PAGES_AHEAD);
    return page;
  }

  /**
   * Asks for the page after `checkpoint` and, as each arrives with more behind it, the next, up to `depth` pages
   * ahead: the source keeps producing while this process stores what it has.
   */
  private fetchAhead(
    subscriptionId: number,
    config: string,
    source: Source,
    checkpoint: string,
    depth: number,
  ): void {
    let chain = this.prefetched.get(subscriptionId);
    if (!chain || chain.config !== config) {
      chain = { config, pages: new Map() };
      this.prefetched.set(subscriptionId, chain);
    }
    if (depth <= 0 || chain.pages.has(checkpoint)) return;
    const next = source.fetchPage(checkpoint);
    chain.pages.set(checkpoint, next);
    const owner = chain;
    next.then(
      (page) => {
        if (
          page.hasMore &&
          page.checkpoint !== null &&
          !this.stopping &&
          this.prefetched.get(subscriptionId) === owner
        )
          this.fetchAhead(subscriptionId, config, source, page.checkpoint, depth - 1);
      },
      () => undefined, // its failure is the run's that asks for it, which fetches again
    );
  }
}

/** Another run advanced the checkpoint while this one fetched: this one's writes are rolled back. */
class Superseded extends Error {}
