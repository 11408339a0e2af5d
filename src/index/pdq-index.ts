/**
 * Exact PDQ range search: every indexed hash within the threshold, nothing missed, with distances.
 *
 * Multi-index hashing with a pair filter. Cut the 256-bit hash into 8 pairs of 32 bits, each pair into two halves
 * of 16 bits. Two hashes within distance t differ by at most R = floor(t / 8) bits in some pair (pigeonhole), and
 * then by at most r = floor(R / 2) bits in one half of that pair. So the index buckets every half (16 tables of
 * 65,536 buckets) and a query probes every bucket within radius r of each of its halves. Each posting carries,
 * beside the position, 8 bits of the other half of its pair, which rules out most candidates (half distance +
 * partner distance > R) without touching the hash itself: the full 256-bit check is a random memory access, the
 * posting scan is sequential. At threshold 31: r = 1 (17 probes per half), R = 3.
 *
 * Long buckets are split. Correlated lists (real ones) fill some buckets far beyond the even length, and what a
 * query pays is the hashes it reads (a random access each, 100-300 ns at 10M), so the 8 partner bits are not
 * enough there. A bucket of L entries is ordered by the top k bits of the other half (k <= 8), with the offsets
 * of its 2^k sub-buckets: 16-bit ones, 2^k <= L / 16, in buckets of 256 or more, one-byte ones, 2^k <= L / 8, in
 * shorter buckets; a probe visits only the sub-buckets within its remaining budget and filters their postings on
 * the low 8 partner bits with what is left. A hash in a long bucket is then checked against up to the whole
 * 32-bit pair before it is read. The sub-bucket offsets cost 1/8 byte per posting, 2 bytes per hash; the first
 * table (stored in place) is split the same way.
 *
 * Which bits make up the halves is a per-segment choice (BitLayout): the pigeonhole argument holds for any
 * partition of the 256 bits. Real hashes are not uniform (bits are correlated and unbalanced), so a segment of
 * 65,536 hashes or more chooses a permutation from a sample of its own hashes that makes each pair's bits as
 * balanced and independent as possible, which evens out its buckets and makes the partner bits informative;
 * queries are permuted per segment.
 *
 * What a search waits for is memory: the buckets it probes and the hashes it reads are scattered through hundreds
 * of megabytes, a cache miss each. Checked one after another, each check branches on what it loaded (stop at the
 * first words beyond the threshold), and the processor keeps few misses in flight. So a search first touches
 * them in passes of independent loads, with nothing branching on the values: the start of every bucket range it
 * will scan (per table), then every candidate hash it will check; then scans and checks. Same work, about 2/3 of
 * the time (measured at 10M: correlated p50 3.47 -> 2.15 ms, random 0.73 -> 0.48 ms).
 *
 * Writes never rebuild the whole index. New hashes go to a tail that is scanned linearly; a full tail becomes an
 * immutable segment (bucket tables over a contiguous range of positions), and segments of similar size are
 * merged, log-structured, so each hash is re-bucketed O(log n) times. Building a segment reorders its positions by
 * the first half, so the first table needs no postings: its buckets are ranges of positions. Removals clear an
 * alive flag; when a quarter of the positions are dead the index compacts.
 *
 * Memory per hash: 32 bytes of hash, 4 of id (0 marks a removed hash), 1-2 of bank, 15 postings of 4 bytes
 * (24-bit position, 8 partner bits) and 2 of sub-bucket offsets, plus 4 MiB of bucket offsets and 256 KiB of
 * layout tables per segment: 99.45 bytes at 10M hashes.
 */
import { hammingWords, pdqHexToWords, popcount32 } from '../hashing/pdq/hash256.js';

export interface PdqMatch {
  id: number;
  bankId: number;
  distance: number;
}

export interface PdqSearchOptions {
  /** Only entries in banks for which this returns true. */
  bankFilter?: (bankId: number) => boolean;
  /** Per-bank threshold (must be <= the search threshold to make a difference). */
  thresholdFor?: (bankId: number) => number;
  /** At most this many matches, closest first. */
  limit?: number;
}

export type PdqQuery = string | Uint32Array;

const SLOTS = 16;
/** The greedy layout fills 8 groups of 32 bits: a pair of halves, whose postings filter on each other. */
const PAIR_BITS = 32;
const BUCKETS = 65536;
const TAIL_MAX = 4096;
/** Segments from this size on choose their own bit layout (smaller ones hold about one hash per bucket). */
const LAYOUT_MIN_SEGMENT = 65536;
/** Radius per half beyond which scanning everything is cheaper than probing (2517 probes per half at 4). */
const MAX_PROBE_RADIUS = 3;
/** Positions are 24 bits in a posting; beyond that the index scans (well past the 10M hashes it is built for). */
const MAX_POSITIONS = 1 << 24;
/**
 * Long buckets are split by the top bits of the pair's other half: a bucket of L entries gets 2^k sub-buckets,
 * k <= MAX_SPLIT_BITS, whose offsets (relative to the bucket) take L / 8 bytes at most: 2^k <= L / 16 of 16 bits
 * each, or, in a bucket shorter than 256 (its offsets fit in a byte), 2^k <= L / 8 of 8 bits each. A table's
 * offsets take ceil(count / 8) bytes: 1/8 byte per posting, 2 bytes per hash over the 16 tables. (Before the
 * byte offsets, every bucket had 2^k <= L / 16: short buckets get one more bit, for the same memory.)
 */
const SPLIT_UNIT_SHIFT = 3;
const SPLIT_UNIT = 1 << SPLIT_UNIT_SHIFT;
const MAX_SPLIT_BITS = 8;
/** Buckets at least this long keep 16-bit sub-bucket offsets. */
const WIDE_BUCKET = 256;

/**
 * Sub-bucket bits of a bucket of `length` entries (0: not split; buckets of 65,536 or more are not split).
 * `byteOffsets` false: 16-bit offsets in every bucket, the previous index (a baseline).
 */
function splitBits(length: number, byteOffsets: boolean): number {
  if (length >= 0x10000) return 0;
  const units = byteOffsets && length < WIDE_BUCKET ? length >>> 3 : length >>> 4;
  return units < 2 ? 0 : Math.min(MAX_SPLIT_BITS, 31 - Math.clz32(units));
}

/** Where (in bytes) a bucket starting at table offset `offset` keeps its sub-bucket offsets. */
function subStart(offset: number): number {
  return (offset + SPLIT_UNIT - 1) >>> SPLIT_UNIT_SHIFT;
}

/** Sub-bucket `sub`'s offset in a bucket whose offsets start at byte `at`: 8 or 16 bits (little-endian). */
function subOffset(subOffsets: Uint8Array, at: number, sub: number, wide: boolean): number {
  return wide ? subOffsets[at + 2 * sub] | (subOffsets[at + 2 * sub + 1] << 8) : subOffsets[at + sub];
}

/**
 * Per split width k, the k-bit XOR masks ordered by popcount, and how many have popcount <= b (b = 0..16), so a
 * probe visits exactly the sub-buckets within its remaining budget.
 */
const SUB_MASKS: Uint16Array[] = [];
const SUB_MASK_COUNTS: Uint16Array[] = [];
for (let k = 0; k <= MAX_SPLIT_BITS; k++) {
  const masks = Array.from({ length: 1 << k }, (_, m) => m).sort(
    (a, b) => popcount32(a) - popcount32(b) || a - b,
  );
  SUB_MASKS.push(Uint16Array.from(masks));
  SUB_MASK_COUNTS.push(
    Uint16Array.from({ length: 17 }, (_, b) => masks.filter((m) => popcount32(m) <= b).length),
  );
}

/** XOR masks of 16 bits with popcount <= r, for r = 0..MAX_PROBE_RADIUS. */
const PROBE_MASKS: Uint16Array[] = (() => {
  const byRadius: Uint16Array[] = [];
  for (let r = 0; r <= MAX_PROBE_RADIUS; r++) {
    const masks: number[] = [];
    for (let m = 0; m < BUCKETS; m++) if (popcount32(m) <= r) masks.push(m);
    byRadius.push(Uint16Array.from(masks));
  }
  return byRadius;
})();

function toWords(query: PdqQuery): Uint32Array {
  if (typeof query === 'string') return pdqHexToWords(query);
  if (!(query instanceof Uint32Array) || query.length !== 8)
    throw new RangeError('a PDQ hash is 64 hex characters or a Uint32Array of 8 words');
  return query;
}

function slotValue(words: ArrayLike<number>, offset: number, slot: number): number {
  return (words[offset + (slot >> 1)] >>> ((slot & 1) << 4)) & 0xffff;
}

function popcount8(x: number): number {
  return POPCOUNT8[x];
}
const POPCOUNT8 = Uint8Array.from({ length: 256 }, (_, i) => popcount32(i));

/**
 * A bit permutation: which hash bit goes to each position of the substrings (position t = slot * 16 + j takes
 * bit source[t]). Multi-index hashing is exact under any partition of the 256 bits into substrings, so each
 * segment may choose its own. Applied with byte lookup tables: 32 lookups of 8 words per hash.
 */
export class BitLayout {
  private readonly tables: Uint32Array;

  constructor(readonly source: Uint8Array) {
    if (source.length !== 256 || new Set(source).size !== 256)
      throw new Error('a bit layout permutes 256 bits');
    this.tables = new Uint32Array(32 * 256 * 8);
    for (let t = 0; t < 256; t++) {
      const bit = source[t];
      const byte = bit >> 3;
      for (let v = 0; v < 256; v++)
        if ((v >> (bit & 7)) & 1) this.tables[(byte * 256 + v) * 8 + (t >> 5)] |= 1 << (t & 31);
    }
  }

  /** Writes the permuted form of words[offset..offset+8) to out[outOffset..outOffset+8). */
  permute(words: ArrayLike<number>, offset: number, out: Uint32Array, outOffset = 0): Uint32Array {
    const tables = this.tables;
    let w0 = 0,
      w1 = 0,
      w2 = 0,
      w3 = 0,
      w4 = 0,
      w5 = 0,
      w6 = 0,
      w7 = 0;
    for (let w = 0; w < 8; w++) {
      const word = words[offset + w];
      for (let b = 0; b < 4; b++) {
        const t = ((w * 4 + b) * 256 + ((word >>> (b * 8)) & 0xff)) * 8;
        w0 |= tables[t];
        w1 |= tables[t + 1];
        w2 |= tables[t + 2];
        w3 |= tables[t + 3];
        w4 |= tables[t + 4];
        w5 |= tables[t + 5];
        w6 |= tables[t + 6];
        w7 |= tables[t + 7];
      }
    }
    out[outOffset] = w0;
    out[outOffset + 1] = w1;
    out[outOffset + 2] = w2;
    out[outOffset + 3] = w3;
    out[outOffset + 4] = w4;
    out[outOffset + 5] = w5;
    out[outOffset + 6] = w6;
    out[outOffset + 7] = w7;
    return out;
  }

  bytes(): number {
    return this.tables.byteLength + this.source.byteLength;
  }

  /** A uniformly random permutation (a baseline the benchmark compares against). */
  static random(seed: number): BitLayout {
    const source = Uint8Array.from({ length: 256 }, (_, i) => i);
    let state = seed >>> 0 || 1;
    for (let i = 255; i > 0; i--) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const j = (state >>> 0) % (i + 1);
      [source[i], source[j]] = [source[j], source[i]];
    }
    return new BitLayout(source);
  }

  /**
   * A layout chosen from a sample of the segment's hashes, so that the bits of each pair (32 bits: two halves
   * whose postings filter on each other) are as balanced and independent as possible. Greedy: bits in order of
   * how entangled they are (sum of squared correlations with all others), each placed in the pair with room
   * where it adds the least cost: its squared correlation with the bits already there, plus the product of its
   * imbalance with theirs (imbalanced bits are spread out, so no pair collects them). Then a few rounds of swaps
   * between pairs that lower the total cost. (Spreading bits over pairs rather than halves: 11% fewer hash
   * reads on the correlated corpus at 2M, measured.)
   */
  static fromSample(
    hashes: Uint32Array,
    from: number,
    to: number,
    sampleSize = 4096,
    /** Bits per group: 32 (pairs, the default) or 16 (halves: the layout before bucket splitting, a baseline). */
    groupBits = PAIR_BITS,
  ): BitLayout {
    const GROUP_BITS = groupBits;
    const GROUPS = 256 / groupBits;
    const n = Math.min(sampleSize, to - from);
    const wordsPerColumn = Math.ceil(n / 32);
    const columns = new Uint32Array(256 * wordsPerColumn);
    const stride = (to - from) / n;
    for (let i = 0; i < n; i++) {
      const o = (from + Math.floor(i * stride)) * 8;
      for (let k = 0; k < 256; k++)
        if ((hashes[o + (k >> 5)] >>> (k & 31)) & 1) columns[k * wordsPerColumn + (i >> 5)] |= 1 << (i & 31);
    }
    const mean = new Float64Array(256);
    for (let k = 0; k < 256; k++) {
      let ones = 0;
      for (let w = 0; w < wordsPerColumn; w++) ones += popcount32(columns[k * wordsPerColumn + w]);
      mean[k] = ones / n;
    }
    const cost = new Float64Array(256 * 256);
    for (let a = 0; a < 256; a++)
      for (let b = a + 1; b < 256; b++) {
        let both = 0;
        for (let w = 0; w < wordsPerColumn; w++)
          both += popcount32(columns[a * wordsPerColumn + w] & columns[b * wordsPerColumn + w]);
        const variance = mean[a] * (1 - mean[a]) * mean[b] * (1 - mean[b]);
        // A constant bit is independent of every other; the imbalance term below keeps constants apart.
        const corr = variance > 0 ? (both / n - mean[a] * mean[b]) / Math.sqrt(variance) : 0;
        const c = corr * corr + 4 * Math.abs(mean[a] - 0.5) * Math.abs(mean[b] - 0.5);
        cost[a * 256 + b] = cost[b * 256 + a] = c;
      }
    const entangled = new Float64Array(256);
    for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) entangled[a] += cost[a * 256 + b];
    const order = Array.from({ length: 256 }, (_, i) => i).sort((a, b) => entangled[b] - entangled[a]);
    const members: number[][] = Array.from({ length: GROUPS }, () => []);
    const added = (bit: number, group: number[]) =>
      group.reduce((sum, other) => sum + cost[bit * 256 + other], 0);
    for (const bit of order) {
      let best = -1;
      let bestCost = Infinity;
      for (let g = 0; g < GROUPS; g++) {
        if (members[g].length === GROUP_BITS) continue;
        const c = added(bit, members[g]);
        if (c < bestCost) [best, bestCost] = [g, c];
      }
      members[best].push(bit);
    }
    for (let round = 0; round < 4; round++) {
      let improved = false;
      for (let s1 = 0; s1 < GROUPS; s1++)
        for (let s2 = s1 + 1; s2 < GROUPS; s2++)
          for (let i = 0; i < GROUP_BITS; i++)
            for (let j = 0; j < GROUP_BITS; j++) {
              const a = members[s1][i];
              const b = members[s2][j];
              const before = added(a, members[s1]) + added(b, members[s2]);
              const after =
                added(b, members[s1]) - cost[b * 256 + a] + added(a, members[s2]) - cost[a * 256 + b];
              if (after < before - 1e-9) {
                members[s1][i] = b;
                members[s2][j] = a;
                improved = true;
              }
            }
      if (!improved) break;
    }
    return new BitLayout(Uint8Array.from(members.flat()));
  }
}

export type LayoutChoice = 'identity' | 'random' | 'greedy' | 'greedy-halves';

export interface PdqIndexOptions {
  /** How segments lay out bits into substrings (default 'greedy'); the others are baselines for benchmarks. */
  layout?: LayoutChoice;
  /** Segments smaller than this keep the identity layout (their buckets hold about one hash anyway). */
  layoutMinSegment?: number;
  /**
   * Split long buckets by the top bits of the pair's other half (default true); false is the previous index, a
   * baseline for benchmarks.
   */
  splitBuckets?: boolean;
  /**
   * Touch the memory a search will read (bucket ranges, candidate hashes) in a pass of independent loads before
   * reading it (default true); false is the previous index, a baseline for benchmarks.
   */
  overlapReads?: boolean;
  /**
   * One-byte sub-bucket offsets in buckets shorter than 256, so they split one bit further for the same memory
   * (default true); false is the previous index, a baseline for benchmarks.
   */
  byteOffsets?: boolean;
}

/** Bucket-length statistics of one table: what a skewed list does to the index. */
export interface BucketStats {
  /** The largest bucket. */
  max: number;
  /** The 99th percentile of bucket lengths over the 65,536 buckets. */
  p99: number;
  /** Mean length of the bucket an indexed hash is in (sum of squared lengths / count); even buckets: count/65536. */
  weightedMean: number;
}

function bucketStats(offsets: Uint32Array, start: number, count: number): BucketStats {
  const histogram = new Map<number, number>();
  let max = 0;
  let squares = 0;
  for (let b = 0; b < BUCKETS; b++) {
    const length = offsets[start + b + 1] - offsets[start + b];
    if (length > max) max = length;
    squares += length * length;
    histogram.set(length, (histogram.get(length) ?? 0) + 1);
  }
  const lengths = [...histogram.keys()].sort((a, b) => a - b);
  let seen = 0;
  let p99 = 0;
  for (const length of lengths) {
    seen += histogram.get(length)!;
    if (seen >= BUCKETS * 0.99) {
      p99 = length;
      break;
    }
  }
  return { max, p99, weightedMean: count > 0 ? squares / count : 0 };
}

export interface IndexBucketStats {
  /** The largest bucket of any table of any segment. */
  largest: number;
  /** The largest 99th-percentile bucket length of any table of any segment. */
  p99: number;
  /** The bucket length of the largest segment if its hashes were spread evenly (count / 65536). */
  evenLength: number;
  /** The bit layout of each segment. */
  layouts: LayoutChoice[];
  /** Per table (16-bit substring), the worst over segments. */
  perTable: BucketStats[];
}

/** The per-position arrays a segment reorders when it is built. */
interface PositionArrays {
  hashes: Uint32Array;
  ids: Uint32Array;
  bankSlots: Uint8Array | Uint16Array;
}

/**
 * One immutable group of bucket tables over positions [base, base + count). Building it reorders those
 * positions (hashes, ids, banks) by the value of the first substring, so the first table needs no postings: its
 * bucket b is the positions base + offsets[b] .. base + offsets[b + 1], checked in place (sequential reads).
 * The other 15 tables hold postings.
 */
const EMPTY_PLACES = new Uint32Array(0);

class Segment {
  readonly offsets: Uint32Array;
  /** Per slot 1..15, `count` postings: position << 8 | partner bits, grouped by bucket (and sub-bucket). */
  readonly postings: Uint32Array;
  /**
   * Per slot, ceil(count / 8) bytes: for a split bucket (splitBits(length) = k > 0) of length L starting at table
   * offset o, from byte subStart(o) on, the 2^k offsets where its sub-buckets start, relative to o: 16 bits each
   * (little-endian) when L >= WIDE_BUCKET or without byte offsets, else 8 bits. Sub-bucket s holds the entries
   * whose pair partner (the other half) has top k bits s. Empty when splitting is off.
   */
  readonly subOffsets: Uint8Array;
  readonly subStride: number;
  private stats: BucketStats[] | null = null;
  /** Build-time buffers, dropped once the segment is built. */
  private buffers: { values: Uint16Array; partners: Uint16Array; partnerAt: Uint16Array } | null = null;

  private scratch(): { values: Uint16Array; partners: Uint16Array; partnerAt: Uint16Array } {
    return (this.buffers ??= {
      values: new Uint16Array(this.count),
      partners: new Uint16Array(this.count),
      partnerAt: new Uint16Array(this.count),
    });
  }

  constructor(
    readonly base: number,
    readonly count: number,
    arrays: PositionArrays,
    /** The segment's bit layout; null is the identity (hash words are used as they are). */
    readonly layout: BitLayout | null,
    readonly split: boolean,
    /** One-byte sub-bucket offsets in buckets shorter than WIDE_BUCKET (see splitBits). */
    readonly byteOffsets: boolean,
  ) {
    this.offsets = new Uint32Array(SLOTS * (BUCKETS + 1));
    this.postings = new Uint32Array((SLOTS - 1) * count);
    this.subStride = split ? subStart(count) : 0;
    this.subOffsets = new Uint8Array(SLOTS * this.subStride);
    // With a layout, bucket a permuted copy (positions relative to the segment's base).
    let words = arrays.hashes;
    let first = base;
    if (layout) {
      words = new Uint32Array(count * 8);
      for (let i = 0; i < count; i++) layout.permute(arrays.hashes, (base + i) * 8, words, i * 8);
      first = 0;
    }
    this.sortBySlot0(arrays, layout ? words : null);
    for (let slot = 1; slot < SLOTS; slot++) this.bucketSlot(slot, words, first);
    this.buffers = null;
  }

  /**
   * Bucket-length statistics per table, computed when first asked (a status request), not at every build: a sync
   * builds hundreds of segments, and a pass over 16 x 65,536 buckets each cost more than building a small one.
   */
  get bucketStats(): BucketStats[] {
    return (this.stats ??= Array.from({ length: SLOTS }, (_, slot) =>
      bucketStats(this.offsets, slot * (BUCKETS + 1), this.count),
    ));
  }

  /**
   * Counting sort of one slot's entries by bucket and, in split buckets, by sub-bucket (the top bits of the
   * partner half); fills the slot's offsets and sub-bucket offsets. `values` and `partners` are the entries' two
   * halves; their bucket counts must already be in the slot's offsets (offsets[start + 1 + v]). Slot 0 gets each
   * entry's place (relative to the segment's start) in `places`; the other slots' postings are written in place.
   */
  private place(slot: number, values: Uint16Array, partners: Uint16Array, places: Uint32Array): void {
    const { count, offsets, subOffsets, subStride } = this;
    const start = slot * (BUCKETS + 1);
    for (let b = 0; b < BUCKETS; b++) offsets[start + b + 1] += offsets[start + b];
    // Per bucket: where the next entry goes (unsplit), or where its sub-bucket offsets are (split, with the shift
    // that takes a partner to its sub-bucket).
    const fill = offsets.slice(start, start + BUCKETS);
    const subAt = new Int32Array(BUCKETS).fill(-1);
    const shift = new Uint8Array(BUCKETS);
    let anySplit = false;
    if (this.split)
      for (let b = 0; b < BUCKETS; b++) {
        const k = splitBits(offsets[start + b + 1] - offsets[start + b], this.byteOffsets);
        if (k === 0) continue;
        subAt[b] = slot * subStride + subStart(offsets[start + b]);
        shift[b] = 16 - k;
        anySplit = true;
      }
    // Slots 1..15 write their postings (position << 8 | the partner's low 8 bits) straight to their places.
    const { postings, base } = this;
    const postingBase = (slot - 1) * count;
    if (!anySplit) {
      if (slot === 0) for (let i = 0; i < count; i++) places[i] = fill[values[i]]++;
      else
        for (let i = 0; i < count; i++)
          postings[postingBase + fill[values[i]]++] = (((base + i) << 8) | (partners[i] & 0xff)) >>> 0;
      return;
    }
    // Place every entry by bucket as if unsplit, remembering each place's partner (and, for slot 0, its entry);
    // then sort each split bucket by sub-bucket in place (stable), one bucket at a time: sequential, cache-friendly.
    const partnerAt = this.scratch().partnerAt;
    const entryAt = slot === 0 ? new Uint32Array(count) : null;
    for (let i = 0; i < count; i++) {
      const place = fill[values[i]]++;
      partnerAt[place] = partners[i];
      if (entryAt) {
        places[i] = place;
        entryAt[place] = i;
      } else postings[postingBase + place] = (((base + i) << 8) | (partners[i] & 0xff)) >>> 0;
    }
    const cursors = new Uint32Array(1 << MAX_SPLIT_BITS);
    const moved = new Uint32Array(0x10000);
    for (let b = 0; b < BUCKETS; b++) {
      const at = subAt[b];
      if (at < 0) continue;
      const from = offsets[start + b];
      const to = offsets[start + b + 1];
      const sh = shift[b];
      const subs = 1 << (16 - sh);
      cursors.fill(0, 0, subs);
      for (let j = from; j < to; j++) cursors[partnerAt[j] >>> sh]++;
      const wide = !this.byteOffsets || to - from >= WIDE_BUCKET;
      let sum = 0;
      for (let sub = 0; sub < subs; sub++) {
        const n = cursors[sub];
        cursors[sub] = sum;
        if (wide) {
          subOffsets[at + 2 * sub] = sum & 0xff;
          subOffsets[at + 2 * sub + 1] = sum >>> 8;
        } else subOffsets[at + sub] = sum;
        sum += n;
      }
      if (entryAt) {
        for (let j = from; j < to; j++) moved[j - from] = entryAt[j];
        for (let j = from; j < to; j++) places[moved[j - from]] = from + cursors[partnerAt[j] >>> sh]++;
      } else {
        for (let j = from; j < to; j++) moved[j - from] = postings[postingBase + j];
        for (let j = from; j < to; j++)
          postings[postingBase + from + cursors[partnerAt[j] >>> sh]++] = moved[j - from];
      }
    }
  }

  /**
   * Stable counting sort of the positions by their first half (of the permuted copy, when there is one, which is
   * reordered alike), and within long buckets by the top bits of the second half; fills the first table's offsets.
   */
  private sortBySlot0(arrays: PositionArrays, permuted: Uint32Array | null): void {
    const { hashes, ids, bankSlots } = arrays;
    const { base, count, offsets } = this;
    const { values, partners } = this.scratch();
    for (let i = 0; i < count; i++) {
      const word = permuted ? permuted[i * 8] : hashes[(base + i) * 8];
      offsets[1 + (values[i] = word & 0xffff)]++;
      partners[i] = word >>> 16;
    }
    const places = new Uint32Array(count);
    this.place(0, values, partners, places);
    const oldHashes = hashes.slice(base * 8, (base + count) * 8);
    const oldPermuted = permuted?.slice();
    const oldIds = ids.slice(base, base + count);
    const oldBanks = bankSlots.slice(base, base + count);
    // Word by word: a subarray per entry would allocate millions of views.
    for (let i = 0; i < count; i++) {
      const to = places[i];
      const o = (base + to) * 8;
      for (let w = 0; w < 8; w++) hashes[o + w] = oldHashes[i * 8 + w];
      ids[base + to] = oldIds[i];
      bankSlots[base + to] = oldBanks[i];
    }
    if (permuted && oldPermuted)
      for (let i = 0; i < count; i++) {
        const o = places[i] * 8;
        for (let w = 0; w < 8; w++) permuted[o + w] = oldPermuted[i * 8 + w];
      }
  }

  /** Counting sort of the segment's positions by one slot's value (slots 1..15), then by sub-bucket. */
  private bucketSlot(slot: number, words: Uint32Array, first: number): void {
    const { count, offsets } = this;
    const { values, partners } = this.scratch();
    const start = slot * (BUCKETS + 1);
    const word = slot >> 1;
    const own = (slot & 1) << 4;
    const other = 16 - own;
    for (let i = 0; i < count; i++) {
      const w = words[(first + i) * 8 + word];
      offsets[start + 1 + (values[i] = (w >>> own) & 0xffff)]++;
      partners[i] = (w >>> other) & 0xffff;
    }
    this.place(slot, values, partners, EMPTY_PLACES);
  }

  bytes(): number {
    return (
      this.offsets.byteLength +
      this.postings.byteLength +
      this.subOffsets.byteLength +
      (this.layout?.bytes() ?? 0)
    );
  }
}

export class PdqIndex {
  /** @internal Hash words per position (8 per hash); segments reorder their positions. */
  hashes = new Uint32Array(0);
  /** @internal Entry id per position; 0 marks a removed hash (entry ids start at 1). */
  ids = new Uint32Array(0);
  /** @internal Bank per position, as a small slot number (see bankSlot); one byte until there are 255 banks. */
  bankSlots: Uint8Array | Uint16Array = new Uint8Array(0);
  private readonly slotOfBank = new Map<number, number>();
  private readonly bankOfSlot: number[] = [];
  private size = 0;
  private dead = 0;
  /** The largest id ever added: an id above it cannot be in the index, so adding it needs no lookup. */
  private maxId = 0;
  private segments: Segment[] = [];
  private bulk = false;
  private readonly scratch = new Uint32Array(8);
  private readonly reported = new PositionSet();
  /**
   * The work the last search did, independent of machine load: postings scanned, candidates that passed the
   * pair filter (each one a random read of a hash), and hashes checked in place in the first table's buckets.
   */
  readonly lastSearchWork = { postings: 0, candidates: 0, inPlace: 0 };
  /** Written by the touch passes so the loads that bring memory into the cache are not optimised away. */
  private touched = 0;
  private readonly overlapReads: boolean;
  private readonly byteOffsets: boolean;
  /** Per table probed: the ranges of postings (or, in the first table, of positions) to scan. */
  private rangeFrom = new Uint32Array(0);
  private rangeTo = new Uint32Array(0);
  private rangeLeft = new Uint8Array(0);
  private candidates: Uint32Array = new Uint32Array(4096);
  private readonly permutedQuery = new Uint32Array(8);
  private readonly layoutChoice: LayoutChoice;
  private readonly layoutMinSegment: number;
  private readonly splitBuckets: boolean;

  constructor(options: PdqIndexOptions = {}) {
    this.layoutChoice = options.layout ?? 'greedy';
    this.splitBuckets = options.splitBuckets ?? true;
    this.layoutMinSegment = options.layoutMinSegment ?? LAYOUT_MIN_SEGMENT;
    this.overlapReads = options.overlapReads ?? true;
    this.byteOffsets = options.byteOffsets ?? true;
  }

  private newSegment(base: number, count: number): Segment {
    let layout: BitLayout | null = null;
    if (count >= this.layoutMinSegment && this.layoutChoice !== 'identity')
      layout =
        this.layoutChoice === 'random'
          ? BitLayout.random(base + count)
          : BitLayout.fromSample(
              this.hashes,
              base,
              base + count,
              undefined,
              this.layoutChoice === 'greedy-halves' ? 16 : PAIR_BITS,
            );
    return new Segment(base, count, this, layout, this.splitBuckets, this.byteOffsets);
  }

  private growCandidates(): Uint32Array {
    const grown = new Uint32Array(this.candidates.length * 2);
    grown.set(this.candidates);
    return (this.candidates = grown);
  }

  /** Live hashes in the index. */
  get count(): number {
    return this.size - this.dead;
  }

  private ensureCapacity(needed: number): void {
    if (needed <= this.ids.length) return;
    if (needed > MAX_POSITIONS) throw new RangeError(`the PDQ index holds at most ${MAX_POSITIONS} hashes`);
    const capacity = Math.min(MAX_POSITIONS, Math.max(needed, Math.ceil(this.ids.length * 1.5), 1024));
    const hashes = new Uint32Array(capacity * 8);
    hashes.set(this.hashes.subarray(0, this.size * 8));
    const ids = new Uint32Array(capacity);
    ids.set(this.ids.subarray(0, this.size));
    const bankSlots =
      this.bankSlots instanceof Uint8Array ? new Uint8Array(capacity) : new Uint16Array(capacity);
    bankSlots.set(this.bankSlots.subarray(0, this.size));
    this.hashes = hashes;
    this.ids = ids;
    this.bankSlots = bankSlots;
  }

  private bankSlot(bankId: number): number {
    let slot = this.slotOfBank.get(bankId);
    if (slot === undefined) {
      slot = this.bankOfSlot.length;
      if (slot > 0xffff) throw new RangeError('the PDQ index holds hashes of at most 65536 banks');
      if (slot === 0x100) this.bankSlots = Uint16Array.from(this.bankSlots);
      this.slotOfBank.set(bankId, slot);
      this.bankOfSlot.push(bankId);
    }
    return slot;
  }

  /** Reserve room for `n` more hashes (bulk loads allocate once instead of growing). */
  reserve(n: number): void {
    this.ensureCapacity(this.size + n);
  }

  /** Adds one hash; adding the same (id, hash) again is a no-op. Ids are positive 32-bit integers. */
  add(id: number, bankId: number, hash: PdqQuery): void {
    const words = toWords(hash);
    // Store ids only grow, so a new entry skips the lookup (a search at distance 0) that re-adds need.
    if (id <= this.maxId && this.findPosition(id, words) >= 0) return;
    this.append(id, bankId, words);
    if (!this.bulk && this.size - this.tailStart() >= TAIL_MAX) this.sealTail();
  }

  private append(id: number, bankId: number, words: ArrayLike<number>): void {
    if (!Number.isInteger(id) || id < 1 || id > 0xffffffff)
      throw new RangeError(`index ids are 1..2^32-1, got ${id}`);
    if (!Number.isSafeInteger(bankId)) throw new RangeError(`bank ids are integers, got ${bankId}`);
    this.ensureCapacity(this.size + 1);
    const pos = this.size++;
    for (let w = 0; w < 8; w++) this.hashes[pos * 8 + w] = words[w];
    this.ids[pos] = id;
    if (id > this.maxId) this.maxId = id;
    this.bankSlots[pos] = this.bankSlot(bankId);
  }

  /**
   * Loads many hashes at once: appended without per-add checks, then bucketed in one pass. The caller promises
   * the ids are not in the index yet (start-up loads, benchmarks).
   */
  bulkLoad(items: Iterable<{ id: number; bankId: number; hash: PdqQuery }>): void {
    for (const item of items) this.append(item.id, item.bankId, toWords(item.hash));
    this.sealTail();
  }

  /** Appends raw words (8 per hash) for a bulk load without bucketing; call finishBulk() afterwards. */
  appendRaw(id: number, bankId: number, words: ArrayLike<number>): void {
    this.bulk = true;
    this.append(id, bankId, words);
  }

  finishBulk(): void {
    this.bulk = false;
    this.sealTail();
  }

  /** Removes the hash added under this id; returns false if it was not there. */
  remove(id: number, hash: PdqQuery): boolean {
    const pos = this.findPosition(id, toWords(hash));
    if (pos < 0) return false;
    this.ids[pos] = 0;
    this.dead++;
    if (this.dead > 10_000 && this.dead * 4 > this.size) this.compact();
    return true;
  }

  private tailStart(): number {
    const last = this.segments[this.segments.length - 1];
    return last ? last.base + last.count : 0;
  }

  /** Turns the tail into a segment, then merges the newest segments while they are of similar size. */
  private sealTail(): void {
    const start = this.tailStart();
    if (this.size > start) this.segments.push(this.newSegment(start, this.size - start));
    while (this.segments.length >= 2) {
      const last = this.segments[this.segments.length - 1];
      const previous = this.segments[this.segments.length - 2];
      if (previous.count > 2 * last.count) break;
      this.segments.splice(-2, 2, this.newSegment(previous.base, previous.count + last.count));
    }
  }

  /** Drops removed positions and rebuilds the bucket tables in one segment. */
  compact(): void {
    let write = 0;
    for (let read = 0; read < this.size; read++) {
      if (this.ids[read] === 0) continue;
      if (write !== read) {
        this.hashes.copyWithin(write * 8, read * 8, read * 8 + 8);
        this.ids[write] = this.ids[read];
        this.bankSlots[write] = this.bankSlots[read];
      }
      write++;
    }
    this.size = write;
    this.dead = 0;
    this.segments = [];
    this.sealTail();
  }

  private findPosition(id: number, words: Uint32Array): number {
    let found = -1;
    this.visit(words, 0, (pos) => {
      if (this.ids[pos] === id) found = pos;
    });
    return found;
  }

  /** Calls `onMatch(position, distance)` for every live position within `threshold` of the query, once each. */
  private visit(
    query: Uint32Array,
    threshold: number,
    onMatch: (pos: number, distance: number) => void,
  ): void {
    const pairRadius = threshold >> 3;
    const radius = pairRadius >> 1;
    if (radius > MAX_PROBE_RADIUS) {
      this.scan(query, threshold, 0, this.size, onMatch);
      return;
    }
    const masks = PROBE_MASKS[radius];
    const hashes = this.hashes;
    const ids = this.ids;
    const reported = this.reported;
    reported.clear();
    const work = this.lastSearchWork;
    work.postings = work.candidates = work.inPlace = 0;
    let candidates = this.candidates;
    for (const segment of this.segments) {
      const { offsets, postings, count, layout, base, subOffsets, subStride, split, byteOffsets } = segment;
      const q = layout ? layout.permute(query, 0, this.permutedQuery) : query;
      // At most every sub-bucket of every bucket probed.
      const maxRanges = masks.length << MAX_SPLIT_BITS;
      if (this.rangeFrom.length < maxRanges) {
        this.rangeFrom = new Uint32Array(maxRanges);
        this.rangeTo = new Uint32Array(maxRanges);
        this.rangeLeft = new Uint8Array(maxRanges);
      }
      const { rangeFrom, rangeTo, rangeLeft } = this;
      for (let slot = 0; slot < SLOTS; slot++) {
        const qv = slotValue(q, 0, slot);
        const qOther = slotValue(q, 0, slot ^ 1);
        const qPartner = qOther & 0xff;
        const tableStart = slot * (BUCKETS + 1);
        const postingBase = (slot - 1) * count;
        const subBase = slot * subStride;
        // First the ranges to scan: whole buckets, or in a split bucket the sub-buckets whose top partner bits
        // are within the pair's remaining budget (with what is left of it for the low 8 partner bits).
        let ranges = 0;
        for (let m = 0; m < masks.length; m++) {
          const mask = masks[m];
          const budget = pairRadius - popcount32(mask);
          const bucket = tableStart + (qv ^ mask);
          const bucketStart = offsets[bucket];
          const bucketEnd = offsets[bucket + 1];
          if (bucketStart === bucketEnd) continue;
          const k = split ? splitBits(bucketEnd - bucketStart, byteOffsets) : 0;
          if (k === 0) {
            rangeFrom[ranges] = bucketStart;
            rangeTo[ranges] = bucketEnd;
            rangeLeft[ranges++] = budget;
            continue;
          }
          const subMasks = SUB_MASKS[k];
          const visits = SUB_MASK_COUNTS[k][budget];
          const subFrom = subBase + subStart(bucketStart);
          const wide = !byteOffsets || bucketEnd - bucketStart >= WIDE_BUCKET;
          const qSub = qOther >>> (16 - k);
          const lastSub = (1 << k) - 1;
          for (let v = 0; v < visits; v++) {
            const x = subMasks[v];
            const sub = qSub ^ x;
            const from = bucketStart + subOffset(subOffsets, subFrom, sub, wide);
            const to =
              sub === lastSub ? bucketEnd : bucketStart + subOffset(subOffsets, subFrom, sub + 1, wide);
            if (from === to) continue;
            rangeFrom[ranges] = from;
            rangeTo[ranges] = to;
            rangeLeft[ranges++] = budget - popcount8(x);
          }
        }
        // The ranges are scattered through memory: touch where each starts (independent loads, many misses in
        // flight at once) before scanning them one by one.
        if (this.overlapReads) {
          let touched = 0;
          if (slot === 0) for (let r = 0; r < ranges; r++) touched ^= hashes[(base + rangeFrom[r]) * 8];
          else for (let r = 0; r < ranges; r++) touched ^= postings[postingBase + rangeFrom[r]];
          this.touched ^= touched;
        }
        if (slot === 0) {
          // The first table: its buckets are ranges of positions, checked in place.
          for (let r = 0; r < ranges; r++) {
            work.inPlace += rangeTo[r] - rangeFrom[r];
            for (let pos = base + rangeFrom[r]; pos < base + rangeTo[r]; pos++) {
              const o = pos * 8;
              let distance = 0;
              for (let w = 0; w < 8 && distance <= threshold; w++)
                distance += popcount32(query[w] ^ hashes[o + w]);
              if (distance > threshold || ids[pos] === 0 || !reported.add(pos)) continue;
              onMatch(pos, distance);
            }
          }
          continue;
        }
        // Gather the positions that pass the pair filter (a sequential scan of postings), then check them: the
        // checks are independent random reads, and the processor overlaps them better in a tight loop.
        let n = 0;
        for (let r = 0; r < ranges; r++) {
          const left = rangeLeft[r];
          const from = postingBase + rangeFrom[r];
          const to = postingBase + rangeTo[r];
          work.postings += to - from;
          for (let p = from; p < to; p++) {
            const posting = postings[p];
            if (popcount8((posting & 0xff) ^ qPartner) <= left) {
              if (n === candidates.length) candidates = this.growCandidates();
              candidates[n++] = posting >>> 8;
            }
          }
        }
        work.candidates += n;
        this.check(candidates, n, query, threshold, onMatch);
      }
    }
    this.scan(query, threshold, this.tailStart(), this.size, onMatch);
  }

  /** Checks the hashes at the first n candidates against the query; reports each live match once. */
  private check(
    candidates: Uint32Array,
    n: number,
    query: Uint32Array,
    threshold: number,
    onMatch: (pos: number, distance: number) => void,
  ): void {
    const hashes = this.hashes;
    const ids = this.ids;
    const reported = this.reported;
    // First touch every candidate's hash: independent loads with no branch on what they read, so the processor
    // has many cache misses in flight at once; then check them. (The check alone stops at the first words that
    // exceed the threshold, a branch on each load, which keeps few misses in flight.)
    if (this.overlapReads) {
      let touched = 0;
      for (let c = 0; c < n; c++) touched ^= hashes[candidates[c] * 8];
      this.touched ^= touched;
    }
    for (let c = 0; c < n; c++) {
      const pos = candidates[c];
      const o = pos * 8;
      let distance = 0;
      for (let w = 0; w < 8 && distance <= threshold; w++) distance += popcount32(query[w] ^ hashes[o + w]);
      // The removed-flag check comes last: it is a second random memory access, worth it only for matches.
      // A match is usually found in several tables: report it the first time only.
      if (distance > threshold || ids[pos] === 0 || !reported.add(pos)) continue;
      onMatch(pos, distance);
    }
  }

  private scan(
    query: Uint32Array,
    threshold: number,
    from: number,
    to: number,
    onMatch: (pos: number, distance: number) => void,
  ): void {
    const hashes = this.hashes;
    for (let pos = from; pos < to; pos++) {
      if (this.ids[pos] === 0) continue;
      const distance = hammingWords(query, hashes, 0, pos * 8);
      if (distance <= threshold) onMatch(pos, distance);
    }
  }

  search(query: PdqQuery, threshold: number, options: PdqSearchOptions = {}): PdqMatch[] {
    if (!Number.isInteger(threshold) || threshold < 0 || threshold > 256)
      throw new RangeError(`threshold must be 0..256, got ${threshold}`);
    const words = typeof query === 'string' ? pdqHexToWords(query, this.scratch) : toWords(query);
    const matches: PdqMatch[] = [];
    const { bankFilter, thresholdFor } = options;
    this.visit(words, threshold, (pos, distance) => {
      const bankId = this.bankOfSlot[this.bankSlots[pos]];
      if (bankFilter && !bankFilter(bankId)) return;
      if (thresholdFor && distance > thresholdFor(bankId)) return;
      matches.push({ id: this.ids[pos], bankId, distance });
    });
    matches.sort((a, b) => a.distance - b.distance || a.id - b.id);
    return options.limit !== undefined && matches.length > options.limit
      ? matches.slice(0, options.limit)
      : matches;
  }

  /**
   * Bucket lengths over every segment's tables: the largest bucket, the largest 99th-percentile bucket length of
   * any table, and per table (slot) the worst over segments. A skewed list shows as long buckets.
   */
  bucketStats(): IndexBucketStats {
    const perTable = Array.from({ length: SLOTS }, () => ({ max: 0, p99: 0, weightedMean: 0 }));
    for (const segment of this.segments)
      segment.bucketStats.forEach((s, slot) => {
        const t = perTable[slot];
        t.max = Math.max(t.max, s.max);
        t.p99 = Math.max(t.p99, s.p99);
        t.weightedMean = Math.max(t.weightedMean, s.weightedMean);
      });
    return {
      largest: Math.max(0, ...perTable.map((t) => t.max)),
      p99: Math.max(0, ...perTable.map((t) => t.p99)),
      evenLength: this.segments.reduce((m, s) => Math.max(m, s.count / BUCKETS), 0),
      layouts: this.segments.map((s) => (s.layout ? this.layoutChoice : 'identity')),
      perTable,
    };
  }

  memoryBytes(): number {
    const arrays = this.hashes.byteLength + this.ids.byteLength + this.bankSlots.byteLength;
    return arrays + this.segments.reduce((sum, s) => sum + s.bytes(), 0);
  }

  stats(): {
    count: number;
    positions: number;
    dead: number;
    segments: number[];
    tail: number;
    memoryBytes: number;
    buckets: IndexBucketStats;
  } {
    return {
      buckets: this.bucketStats(),
      count: this.count,
      positions: this.size,
      dead: this.dead,
      segments: this.segments.map((s) => s.count),
      tail: this.size - this.tailStart(),
      memoryBytes: this.memoryBytes(),
    };
  }
}

/** The positions reported by one search: a list while short (the usual case), a Set beyond that. */
class PositionSet {
  private readonly list = new Uint32Array(64);
  private size = 0;
  private set: Set<number> | null = null;

  clear(): void {
    this.size = 0;
    this.set = null;
  }

  /** Adds a position; false if it was there already. */
  add(pos: number): boolean {
    if (this.set) {
      if (this.set.has(pos)) return false;
      this.set.add(pos);
      return true;
    }
    for (let i = 0; i < this.size; i++) if (this.list[i] === pos) return false;
    if (this.size < this.list.length) this.list[this.size++] = pos;
    else (this.set = new Set(this.list)).add(pos);
    return true;
  }
}

/** The reference: a linear scan over every hash. Tests and benchmarks compare the index against it. */
export class LinearPdqIndex {
  private readonly items: { id: number; bankId: number; words: Uint32Array }[] = [];

  add(id: number, bankId: number, hash: PdqQuery): void {
    this.items.push({ id, bankId, words: Uint32Array.from(toWords(hash)) });
  }

  remove(id: number): boolean {
    const i = this.items.findIndex((item) => item.id === id);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }

  search(query: PdqQuery, threshold: number, options: PdqSearchOptions = {}): PdqMatch[] {
    const words = toWords(query);
    const matches: PdqMatch[] = [];
    for (const item of this.items) {
      const distance = hammingWords(words, item.words);
      if (distance > threshold) continue;
      if (options.bankFilter && !options.bankFilter(item.bankId)) continue;
      if (options.thresholdFor && distance > options.thresholdFor(item.bankId)) continue;
      matches.push({ id: item.id, bankId: item.bankId, distance });
    }
    matches.sort((a, b) => a.distance - b.distance || a.id - b.id);
    return options.limit !== undefined ? matches.slice(0, options.limit) : matches;
  }
}
