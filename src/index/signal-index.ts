/**
 * One object holding an index per signal type, kept in step with every write to the store. It holds active
 * entries only; bank filters and per-bank thresholds are applied at query time, so enabling a bank or changing
 * its threshold needs no re-index.
 */
import { getSignalType } from '../signals/registry.js';
import { ExactIndex } from './exact-index.js';
import { PdqIndex, type IndexBucketStats, type PdqMatch } from './pdq-index.js';
import { VpdqIndex, type VpdqFrameInput, type VpdqMatch, type VpdqSearchOptions } from './vpdq-index.js';

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

export interface SignalMatch {
  id: number;
  bankId: number;
  distance: number;
  detail?: string;
}

/** Parses a vPDQ signal value (a JSON array of "hex,quality,timestamp") into frames. */
export function vpdqFramesOf(value: string): VpdqFrameInput[] {
  return (JSON.parse(value) as string[]).map((feature) => {
    const [pdq, quality] = feature.split(',');
    return { pdq, quality: Number(quality) };
  });
}

export class SignalIndexSet {
  readonly pdq = new PdqIndex();
  readonly vpdq = new VpdqIndex();
  private readonly exact = new Map<string, ExactIndex>();
  private readonly lastUpdate = new Map<string, string>();
  /** The store's change sequence number this index reflects. */
  seq = 0;

  private exactFor(type: string): ExactIndex {
    let index = this.exact.get(type);
    if (!index) this.exact.set(type, (index = new ExactIndex()));
    return index;
  }

  /** Applies an entry as it is now: active entries are (re-)added, any other status removes it. */
  upsert(entry: IndexedEntry): void {
    if (entry.status !== 'active') {
      this.remove(entry);
      return;
    }
    const kind = getSignalType(entry.signalType).matchKind;
    if (kind === 'hamming') this.pdq.add(entry.id, entry.bankId, entry.value);
    else if (kind === 'video') this.vpdq.add(entry.id, entry.bankId, vpdqFramesOf(entry.value));
    else this.exactFor(entry.signalType).add(entry.id, entry.bankId, entry.value);
    this.touch(entry.signalType);
  }

  remove(entry: Omit<IndexedEntry, 'status'>): void {
    const kind = getSignalType(entry.signalType).matchKind;
    if (kind === 'hamming') this.pdq.remove(entry.id, entry.value);
    else if (kind === 'video') this.vpdq.remove(entry.id);
    else this.exactFor(entry.signalType).remove(entry.id, entry.value);
    this.touch(entry.signalType);
  }

  private touch(type: string): void {
    this.lastUpdate.set(type, new Date().toISOString());
  }

  /** Matches of one signal against every indexed entry of its type, before bank rules. */
  search(
    signalType: string,
    value: string,
    threshold: number,
    options: {
      bankFilter?: (bankId: number) => boolean;
      thresholdFor?: (bankId: number) => number;
      vpdq?: VpdqSearchOptions;
    } = {},
  ): SignalMatch[] {
    const kind = getSignalType(signalType).matchKind;
    if (kind === 'hamming') {
      return this.pdq.search(value, threshold, options).map((m: PdqMatch) => ({ ...m }));
    }
    if (kind === 'video') {
      return this.vpdq
        .search(vpdqFramesOf(value), { distance: threshold, bankFilter: options.bankFilter, ...options.vpdq })
        .map((m: VpdqMatch) => ({
          id: m.id,
          bankId: m.bankId,
          distance: Math.round((100 - m.queryMatchPercent) * 100) / 100,
          detail: `${m.queryMatchPercent.toFixed(0)}%[${m.comparedMatchPercent.toFixed(0)}%]`,
        }));
    }
    return this.exactFor(signalType)
      .lookup(value, options.bankFilter)
      .map((m) => ({ ...m, distance: 0 }));
  }

  status(): Record<string, IndexTypeStatus> {
    const out: Record<string, IndexTypeStatus> = {
      pdq: {
        size: this.pdq.count,
        memoryBytes: this.pdq.memoryBytes(),
        lastUpdate: this.lastUpdate.get('pdq') ?? null,
        buckets: this.pdq.bucketStats(),
      },
      vpdq: {
        size: this.vpdq.count,
        memoryBytes: this.vpdq.memoryBytes(),
        lastUpdate: this.lastUpdate.get('vpdq') ?? null,
        buckets: this.vpdq.bucketStats(),
      },
    };
    for (const type of ['md5', 'sha256']) {
      const index = this.exact.get(type);
      out[type] = {
        size: index?.count ?? 0,
        memoryBytes: index?.memoryBytes() ?? 0,
        lastUpdate: this.lastUpdate.get(type) ?? null,
      };
    }
    return out;
  }
}
