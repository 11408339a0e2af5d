/**
 * Extension point #1: a kind of signal (hash) that can be exchanged and matched. A signal type brings everything
 * the rest of the system needs to know about it — validation, comparison, its index, how it is read off a hashed
 * file, its name on the HMA facade, how it is shown — so adding a type is one new file implementing this
 * interface plus one line in registry.ts. The conformance tests (signal-types.test.ts, and
 * test/http/signal-type-extension.test.ts for the whole path) then run against its examples.
 */
import type { ContentType } from '../hashing/content-type.js';
import type { HashResult } from '../hashing/hash-file.js';
import type { IndexBucketStats } from '../index/pdq-index.js';

export type { ContentType };

/** How an index finds matches for this type. */
export type MatchKind = 'exact' | 'hamming' | 'video';

export interface SignalComparison {
  /** Smaller is closer. Hamming distance for PDQ; 0 or 1 for exact types; 100 - query match % for vPDQ. */
  distance: number;
  match: boolean;
  /** Human-readable detail, e.g. vPDQ's "Q%[C%]". */
  detail?: string;
}

export interface TypeIndexMatch {
  id: number;
  bankId: number;
  distance: number;
  detail?: string;
}

export interface TypeIndexSearchOptions {
  bankFilter?: (bankId: number) => boolean;
  /** Per-bank threshold (only asked of types with perBankThresholds). */
  thresholdFor?: (bankId: number) => number;
}

/** The in-memory index of one signal type: active entries only, bank rules applied at query time. */
export interface SignalTypeIndex {
  readonly count: number;
  add(id: number, bankId: number, value: string): void;
  remove(id: number, value: string): void;
  /** Matches within `threshold` (the largest threshold of any bank), closest first. */
  search(value: string, threshold: number, options?: TypeIndexSearchOptions): TypeIndexMatch[];
  memoryBytes(): number;
  /** Bucket statistics for hash indexes, so an operator sees a skewed list. */
  bucketStats?(): IndexBucketStats;
  /** Start-up bulk path: entries appended without per-entry upkeep, then finishLoad once (default: add). */
  load?(id: number, bankId: number, value: string): void;
  finishLoad?(): void;
}

export interface SignalType {
  /** Stable wire name, lower case: 'pdq', 'vpdq', 'md5', 'sha256'. */
  readonly name: string;
  readonly description: string;
  /** Content a signal of this type can be computed from. */
  readonly contentTypes: readonly ContentType[];
  readonly matchKind: MatchKind;
  /** Default match threshold (inclusive distance); 0 for exact types. */
  readonly defaultThreshold: number;
  /** Largest meaningful threshold; per-bank thresholds are validated against it. */
  readonly maxThreshold: number;
  /** Whether each bank's own threshold is applied in the index (vPDQ matches on its frame rule instead). */
  readonly perBankThresholds: boolean;
  /**
   * Validates a value from outside and returns its canonical wire form (e.g. lower-cased hex).
   * Throws ValidationError (KAI_ERR_HASH_INVALID) saying what is wrong.
   */
  normalize(value: unknown): string;
  /** Compares two canonical values at the given threshold (default: defaultThreshold). */
  compare(a: string, b: string, threshold?: number): SignalComparison;
  /** A new, empty index for signals of this type. */
  createIndex(): SignalTypeIndex;
  /** This type's signal of a hashed file, when the hasher computed one that is usable for matching. */
  fromHash?(result: HashResult): string | undefined;
  /**
   * The type on HMA's facade: its name there (e.g. `video_md5` for md5) and the content it is banked for when
   * HMA hashes media (e.g. md5 only for videos). Types without it are still matchable under their own name.
   */
  readonly hma?: { readonly name: string; readonly bankedFor: readonly ContentType[] };
  /** How people see it: a short label for tables, and a value shortened for display. */
  readonly display: { readonly label: string; short(value: string): string };
  /** Valid canonical examples; the conformance suite round-trips and compares them. */
  readonly examples: readonly string[];
}

/** The usual display of a hash: its first 12 characters. */
export function shortHash(value: string): string {
  return value.length > 16 ? `${value.slice(0, 12)}…` : value;
}
