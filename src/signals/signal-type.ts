/**
 * Extension point #1: a kind of signal (hash) that can be exchanged and matched. Adding a hash type is one
 * new file implementing this interface plus one line in registry.ts; the shared conformance test
 * (signal-types.test.ts) then runs against its examples.
 */
export type ContentType = 'photo' | 'video' | 'other';

/** How an index finds matches for this type. */
export type MatchKind = 'exact' | 'hamming' | 'video';

export interface SignalComparison {
  /** Smaller is closer. Hamming distance for PDQ; 0 or 1 for exact types; 100 - query match % for vPDQ. */
  distance: number;
  match: boolean;
  /** Human-readable detail, e.g. vPDQ's "Q%[C%]". */
  detail?: string;
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
  /**
   * Validates a value from outside and returns its canonical wire form (e.g. lower-cased hex).
   * Throws ValidationError (KAI_ERR_HASH_INVALID) saying what is wrong.
   */
  normalize(value: unknown): string;
  /** Compares two canonical values at the given threshold (default: defaultThreshold). */
  compare(a: string, b: string, threshold?: number): SignalComparison;
  /** Valid canonical examples; the conformance suite round-trips and compares them. */
  readonly examples: readonly string[];
}
