/**
 * Keeps the in-memory index in step with the store: a streamed load at start-up, then the change feed
 * (EntryService.changesSince) after every local write and on a timer for writes made by other processes.
 */
import type { EntryChange, EntryService } from '../store/entries.js';
import type { BankRules } from './bank-rules.js';
import type { SignalIndexSet } from './signal-index-set.js';

/** New entries in one batch of changes from which they are appended in bulk rather than added one by one. */
const BULK_APPEND_MIN = 1000;

export interface IndexLoadReport {
  entries: number;
  seconds: number;
}

export class IndexSync {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again: Promise<void> | null = null;
  private loaded = false;
  /** The largest entry id the index has been told of: store ids only grow, so a larger one is a new entry. */
  private highestId = 0;
  lastError: string | null = null;
  loadedAt: string | null = null;
  /** Told of every entry that changed (caches of entry details listen here). */
  onEntryChange: (entryId: number) => void = () => undefined;

  constructor(
    private readonly index: SignalIndexSet,
    private readonly entries: EntryService,
    private readonly banks: BankRules,
  ) {}

  async load(onProgress?: (entries: number) => void): Promise<IndexLoadReport> {
    const started = performance.now();
    // Changes after this point are replayed by catchUp (applying a change twice is harmless).
    this.index.seq = await this.entries.currentSeq();
    await this.banks.reload();
    let count = 0;
    for await (const batch of this.entries.streamAll()) {
      for (const entry of batch) {
        if (entry.id > this.highestId) this.highestId = entry.id;
        if (entry.status !== 'active') continue;
        this.index.load(entry);
        count++;
      }
      onProgress?.(count);
    }
    this.index.finishLoad();
    this.loaded = true;
    await this.catchUp();
    this.loadedAt = new Date().toISOString();
    return { entries: count, seconds: (performance.now() - started) / 1000 };
  }

  /**
   * Applies every change since the index's sequence number; concurrent callers share one run. Until the index was
   * loaded there is nothing to keep in step (a CLI command writing to the store has no index): nothing happens.
   */
  catchUp(): Promise<void> {
    if (!this.loaded) return Promise.resolve();
    if (this.running) {
      // The run under way may have read the change feed before the caller's write committed: the caller waits
      // for one more run after it (shared by everyone who arrives meanwhile), so it always sees its own write.
      this.again ??= this.running
        .catch(() => undefined) // that run's failure is its callers'; this one tries afresh
        .then(() => {
          this.again = null;
          return this.catchUp();
        });
      return this.again;
    }
    this.running = this.applyChanges().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async applyChanges(): Promise<void> {
    for (let batch = 0; ; batch++) {
      // Between batches, requests waiting meanwhile (matches) are answered: a catch-up of many changes does not
      // hold them up until it ends.
      if (batch > 0) await new Promise((resolve) => setImmediate(resolve));
      const changes = await this.entries.changesSince(this.index.seq, 25_000);
      if (changes.length === 0) return;
      // Many new active entries at once (a sync or an import) are appended in bulk and bucketed once per batch,
      // instead of one by one; the batch is applied without a pause, so no search sees it half done. A few stay in
      // the index's tail (bucketing a handful of hashes costs more than scanning them).
      const isNew = (change: EntryChange) =>
        change.kind !== 'delete' && change.status === 'active' && change.id > this.highestId;
      const bulk = changes.filter(isNew).length >= BULK_APPEND_MIN;
      let appended = false;
      for (const change of changes) {
        const fresh = isNew(change);
        if (change.id > this.highestId) this.highestId = change.id;
        if (bulk && fresh) {
          this.index.load(change);
          appended = true;
        } else {
          if (appended) this.index.finishLoad();
          appended = false;
          if (change.kind === 'delete') this.index.remove(change);
          else this.index.upsert(change);
        }
        this.onEntryChange(change.id);
        this.index.seq = change.seq;
      }
      if (appended) this.index.finishLoad();
    }
  }

  /** Polls for changes made elsewhere (other processes on the same database, the CLI) every `intervalMs`. */
  follow(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => {
      Promise.all([this.catchUp(), this.banks.reload()])
        .then(() => (this.lastError = null))
        .catch((err: unknown) => (this.lastError = err instanceof Error ? err.message : String(err)));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
