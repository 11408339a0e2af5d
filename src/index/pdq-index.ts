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
 * Writes never rebuild the whole index. New hashes go to a tail that is scanned linearly; a full tail becomes an
 * immutable segment (16 bucket tables over a contiguous range of positions), and segments of similar size are
 * merged, log-structured, so each hash is re-bucketed O(log n) times. Removals clear an alive flag; when a
 * quarter of the positions are dead the index compacts.
 *
 * Memory per hash: 32 bytes of hash, 4 of id (0 marks a removed hash), 1-2 of bank, and 16 postings of 4 bytes
 * (24-bit position, 8 partner bits), plus 4 MiB of bucket offsets per segment: about 101 bytes at 10M hashes.
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
const BUCKETS = 65536;
const TAIL_MAX = 4096;
/** Radius per half beyond which scanning everything is cheaper than probing (2517 probes per half at 4). */
const MAX_PROBE_RADIUS = 3;
/** Positions are 24 bits in a posting; beyond that the index scans (well past the 10M hashes it is built for). */
const MAX_POSITIONS = 1 << 24;

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
  return typeof query === 'string' ? pdqHexToWords(query) : query;
}

function slotValue(words: ArrayLike<number>, offset: number, slot: number): number {
  return (words[offset + (slot >> 1)] >>> ((slot & 1) << 4)) & 0xffff;
}

/** The 8 partner bits a posting of `slot` carries: the low byte of the other half of its pair. */
function partnerBits(words: ArrayLike<number>, offset: number, slot: number): number {
  return slotValue(words, offset, slot ^ 1) & 0xff;
}

function popcount8(x: number): number {
  return POPCOUNT8[x];
}
const POPCOUNT8 = Uint8Array.from({ length: 256 }, (_, i) => popcount32(i));

/** One immutable group of bucket tables over positions [base, base + count). */
class Segment {
  readonly offsets: Uint32Array;
  /** Per slot, `count` postings: position << 8 | partner bits, grouped by bucket. */
  readonly postings: Uint32Array;

  constructor(
    readonly base: number,
    readonly count: number,
    hashes: Uint32Array,
  ) {
    this.offsets = new Uint32Array(SLOTS * (BUCKETS + 1));
    this.postings = new Uint32Array(SLOTS * count);
    for (let slot = 0; slot < SLOTS; slot++) this.bucketSlot(slot, hashes);
  }

  /** Counting sort of the segment's positions by one slot's value. */
  private bucketSlot(slot: number, hashes: Uint32Array): void {
    const offsets = this.offsets;
    const start = slot * (BUCKETS + 1);
    const end = this.base + this.count;
    for (let pos = this.base; pos < end; pos++) offsets[start + 1 + slotValue(hashes, pos * 8, slot)]++;
    for (let b = 0; b < BUCKETS; b++) offsets[start + b + 1] += offsets[start + b];
    const fill = offsets.slice(start, start + BUCKETS);
    const postingBase = slot * this.count;
    for (let pos = this.base; pos < end; pos++) {
      const v = slotValue(hashes, pos * 8, slot);
      this.postings[postingBase + fill[v]++] = ((pos << 8) | partnerBits(hashes, pos * 8, slot)) >>> 0;
    }
  }

  bytes(): number {
    return this.offsets.byteLength + this.postings.byteLength;
  }
}

export class PdqIndex {
  private hashes = new Uint32Array(0);
  /** Entry id per position; 0 marks a removed hash (entry ids start at 1). */
  private ids = new Uint32Array(0);
  /** Bank per position, as a small slot number (see bankSlot); one byte until there are 255 banks. */
  private bankSlots: Uint8Array | Uint16Array = new Uint8Array(0);
  private readonly slotOfBank = new Map<number, number>();
  private readonly bankOfSlot: number[] = [];
  private size = 0;
  private dead = 0;
  private segments: Segment[] = [];
  private bulk = false;
  private readonly scratch = new Uint32Array(8);
  private readonly xor = new Uint32Array(8);
  private candidates: Uint32Array = new Uint32Array(4096);

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
    if (this.findPosition(id, words) >= 0) return;
    this.append(id, bankId, words);
    if (!this.bulk && this.size - this.tailStart() >= TAIL_MAX) this.sealTail();
  }

  private append(id: number, bankId: number, words: ArrayLike<number>): void {
    if (!Number.isInteger(id) || id < 1 || id > 0xffffffff)
      throw new RangeError(`index ids are 1..2^32-1, got ${id}`);
    this.ensureCapacity(this.size + 1);
    const pos = this.size++;
    for (let w = 0; w < 8; w++) this.hashes[pos * 8 + w] = words[w];
    this.ids[pos] = id;
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
    if (this.size > start) this.segments.push(new Segment(start, this.size - start, this.hashes));
    while (this.segments.length >= 2) {
      const last = this.segments[this.segments.length - 1];
      const previous = this.segments[this.segments.length - 2];
      if (previous.count > 2 * last.count) break;
      this.segments.splice(-2, 2, new Segment(previous.base, previous.count + last.count, this.hashes));
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
    const xor = this.xor;
    let candidates = this.candidates;
    for (const segment of this.segments) {
      const { offsets, postings, count } = segment;
      for (let slot = 0; slot < SLOTS; slot++) {
        const qv = slotValue(query, 0, slot);
        const qPartner = partnerBits(query, 0, slot);
        const tableStart = slot * (BUCKETS + 1);
        const postingBase = slot * count;
        // First gather the positions that pass the pair filter (a sequential scan of postings), then check them:
        // the checks are independent random reads, and the processor overlaps them better in a tight loop.
        let n = 0;
        for (let m = 0; m < masks.length; m++) {
          const mask = masks[m];
          const budget = pairRadius - popcount32(mask);
          const bucket = tableStart + (qv ^ mask);
          const end = postingBase + offsets[bucket + 1];
          for (let p = postingBase + offsets[bucket]; p < end; p++) {
            const posting = postings[p];
            if (popcount8((posting & 0xff) ^ qPartner) <= budget) {
              if (n === candidates.length) candidates = this.growCandidates();
              candidates[n++] = posting >>> 8;
            }
          }
        }
        for (let c = 0; c < n; c++) {
          const pos = candidates[c];
          const o = pos * 8;
          let distance = 0;
          for (let w = 0; w < 8 && distance <= threshold; w++)
            distance += popcount32((xor[w] = (query[w] ^ hashes[o + w]) >>> 0));
          // The removed-flag check comes last: it is a second random memory access, worth it only for matches.
          if (distance > threshold || ids[pos] === 0) continue;
          if (firstQualifyingSlot(xor, radius, pairRadius) !== slot) continue;
          onMatch(pos, distance);
        }
      }
    }
    this.scan(query, threshold, this.tailStart(), this.size, onMatch);
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
    const words = typeof query === 'string' ? pdqHexToWords(query, this.scratch) : query;
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
  } {
    return {
      count: this.count,
      positions: this.size,
      dead: this.dead,
      segments: this.segments.map((s) => s.count),
      tail: this.size - this.tailStart(),
      memoryBytes: this.memoryBytes(),
    };
  }
}

/**
 * The first half-slot at which a hash with this XOR against the query is found and passes the pair filter:
 * the half within `radius` and the whole pair within `pairRadius`. Each match is reported only there.
 */
function firstQualifyingSlot(xor: Uint32Array, radius: number, pairRadius: number): number {
  for (let slot = 0; slot < SLOTS; slot++) {
    const word = xor[slot >> 1];
    const half = popcount32((word >>> ((slot & 1) << 4)) & 0xffff);
    if (half <= radius && popcount32(word) <= pairRadius) return slot;
  }
  return -1;
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
