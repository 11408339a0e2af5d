/**
 * One object holding an index per signal type, kept in step with every write to the store. Each registered
 * signal type brings its own index (created the first time an entry of that type is seen). It holds active
 * entries only; bank filters and per-bank thresholds are applied at query time, so enabling a bank or changing
 * its threshold needs no re-index.
 */
import type { IndexBucketStats } from '../index/pdq-index.js';
import { getSignalType, SIGNAL_TYPES } from '../signals/registry.js';
import type { SignalTypeIndex, TypeIndexMatch, TypeIndexSearchOptions } from '../signals/signal-type.js';

export interface IndexedEntry {
  id: number;
  bankId: number;
  signalType: string;
  value: string;
  status: string;
}

export interface IndexTypeStatus {
  size: number;
  memoryBytes: number;
  lastUpdate: string | null;
  /** Bucket statistics of the hash index (PDQ and vPDQ frames): long buckets mean a skewed list. */
  buckets?: IndexBucketStats;
}

/**
 * The bucket statistics as the status endpoints report them: the largest bucket and the largest 99th-percentile
 * bucket length over all tables and segments, the length buckets would have if the largest segment's hashes were
 * spread evenly, each segment's bit layout, and the largest bucket per table (16-bit substring).
 */
export function bucketStatsView(stats: IndexBucketStats | undefined): Record<string, unknown> | undefined {
  if (!stats) return undefined;
  return {
    largest: stats.largest,
    p99: stats.p99,
    even_length: Math.round(stats.evenLength * 100) / 100,
    layouts: stats.layouts,
    per_table_largest: stats.perTable.map((t) => t.max),
  };
}

export type SignalMatch = TypeIndexMatch;

export class SignalIndexSet {
  private readonly indexes = new Map<string, SignalTypeIndex>();
  private readonly lastUpdate = new Map<string, string>();
  /** Types with entries loaded since the last finishLoad. */
  private readonly loadedTypes = new Set<string>();
  /** The store's change sequence number this index reflects. */
  seq = 0;

  /** The index of one signal type (throws ValidationError for a type this process does not know). */
  of(type: string): SignalTypeIndex {
    let index = this.indexes.get(type);
    if (!index) this.indexes.set(type, (index = getSignalType(type).createIndex()));
    return index;
  }

  /** Applies an entry as it is now: active entries are (re-)added, any other status removes it. */
  upsert(entry: IndexedEntry): void {
    if (entry.status !== 'active') {
      this.remove(entry);
      return;
    }
    this.of(entry.signalType).add(entry.id, entry.bankId, entry.value);
    this.touch(entry.signalType);
  }

  remove(entry: Omit<IndexedEntry, 'status'>): void {
    this.of(entry.signalType).remove(entry.id, entry.value);
    this.touch(entry.signalType);
  }

  /** Start-up bulk path: appends an active entry; finishLoad() makes everything loaded searchable. */
  load(entry: Omit<IndexedEntry, 'status'>): void {
    const index = this.of(entry.signalType);
    if (index.load) index.load(entry.id, entry.bankId, entry.value);
    else index.add(entry.id, entry.bankId, entry.value);
    this.loadedTypes.add(entry.signalType);
  }

  finishLoad(): void {
    for (const index of this.indexes.values()) index.finishLoad?.();
    for (const type of this.loadedTypes) this.touch(type);
    this.loadedTypes.clear();
  }

  private touch(type: string): void {
    this.lastUpdate.set(type, new Date().toISOString());
  }

  /** Matches of one signal against every indexed entry of its type, before bank rules. */
  search(
    signalType: string,
    value: string,
    threshold: number,
    options: TypeIndexSearchOptions = {},
  ): SignalMatch[] {
    return this.of(signalType).search(value, threshold, options);
  }

  /** Size, memory and bucket statistics of every registered type's index. */
  status(): Record<string, IndexTypeStatus> {
    const out: Record<string, IndexTypeStatus> = {};
    for (const name of SIGNAL_TYPES.keys()) {
      const index = this.of(name);
      out[name] = {
        size: index.count,
        memoryBytes: index.memoryBytes(),
        lastUpdate: this.lastUpdate.get(name) ?? null,
        ...(index.bucketStats ? { buckets: index.bucketStats() } : {}),
      };
    }
    return out;
  }
}
