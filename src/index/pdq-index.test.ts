import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PDQ_DATA } from '../../test/helpers/shared.js';
import { xorshift32 as rng } from '../core/random.js';
import { pdqWordsToHex } from '../hashing/pdq/hash256.js';
import {
  MODELS,
  correlatedCorpus,
  halfConstantCorpus,
  sharedSubstringCorpus,
} from '../../bench/pdq-corpus.js';
import { BitLayout, LinearPdqIndex, PdqIndex, type LayoutChoice } from './pdq-index.js';

function randomHash(next: () => number): string {
  return pdqWordsToHex(Uint32Array.from({ length: 8 }, () => next()));
}

function flipBits(hex: string, count: number, next: () => number): string {
  const words = Uint32Array.from({ length: 8 }, (_, w) => parseInt(hex.slice(56 - 8 * w, 64 - 8 * w), 16));
  const flipped = new Set<number>();
  while (flipped.size < count) flipped.add(next() % 256);
  for (const bit of flipped) words[bit >> 5] ^= 1 << (bit & 31);
  return pdqWordsToHex(words);
}

/** A corpus with what real lists have: random hashes, tight clusters of near-duplicates, exact duplicates. */
function corpus(seed: number, size: number): string[] {
  const next = rng(seed);
  const hashes: string[] = [];
  const centres = Array.from({ length: 8 }, () => randomHash(next));
  for (let i = 0; i < size; i++) {
    const kind = next() % 10;
    if (kind < 6) hashes.push(randomHash(next));
    else if (kind < 9) hashes.push(flipBits(centres[next() % centres.length], next() % 41, next));
    else hashes.push(hashes.length > 0 ? hashes[next() % hashes.length] : randomHash(next));
  }
  hashes.push('0'.repeat(64), 'f'.repeat(64), '0'.repeat(63) + '1');
  return hashes;
}

function expectSameAsLinear(index: PdqIndex, linear: LinearPdqIndex, query: string, threshold: number): void {
  const got = index.search(query, threshold);
  const want = linear.search(query, threshold);
  expect(got).toEqual(want);
}

describe('PdqIndex is exact (identical to a linear scan)', () => {
  const hashes = corpus(42, 6000);
  const index = new PdqIndex();
  const linear = new LinearPdqIndex();
  hashes.forEach((hash, i) => {
    index.add(i + 1, 1 + (i % 3), hash);
    linear.add(i + 1, 1 + (i % 3), hash);
  });

  it.each([0, 1, 7, 8, 15, 16, 23, 24, 31, 32, 40, 47, 48, 63, 64, 100])('threshold %i', (threshold) => {
    const next = rng(threshold + 7);
    for (let q = 0; q < 40; q++) {
      const base = hashes[next() % hashes.length];
      const query = q % 4 === 0 ? randomHash(next) : flipBits(base, next() % (threshold + 8), next);
      expectSameAsLinear(index, linear, query, threshold);
    }
  });

  it('finds every exact duplicate, in every bank', () => {
    const duplicated = new PdqIndex();
    const hash = hashes[0];
    for (let id = 1; id <= 50; id++) duplicated.add(id, id % 4, hash);
    const found = duplicated.search(hash, 0);
    expect(found.map((m) => m.id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(new Set(found.map((m) => m.bankId))).toEqual(new Set([0, 1, 2, 3]));
  });

  it('applies bank filters and per-bank thresholds', () => {
    const next = rng(99);
    for (let q = 0; q < 30; q++) {
      const query = flipBits(hashes[next() % hashes.length], next() % 30, next);
      const options = {
        bankFilter: (bank: number) => bank !== 2,
        thresholdFor: (bank: number) => (bank === 1 ? 10 : 31),
      };
      expect(index.search(query, 31, options)).toEqual(linear.search(query, 31, options));
    }
  });

  it('stays exact through interleaved adds and removes (property-based)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            op: fc.constantFrom('add', 'add', 'remove'),
            pick: fc.nat(),
            flips: fc.nat({ max: 40 }),
          }),
          {
            minLength: 1,
            maxLength: 300,
          },
        ),
        fc.integer({ min: 0, max: 48 }),
        (ops, threshold) => {
          const small = new PdqIndex();
          const reference = new LinearPdqIndex();
          const present = new Map<number, string>();
          const next = rng(ops.length * 31 + threshold);
          let nextId = 1;
          for (const op of ops) {
            if (op.op === 'add' || present.size === 0) {
              const hash = flipBits(hashes[op.pick % 200], op.flips, next);
              small.add(nextId, 1, hash);
              reference.add(nextId, 1, hash);
              present.set(nextId++, hash);
            } else {
              const ids = [...present.keys()];
              const id = ids[op.pick % ids.length];
              expect(small.remove(id, present.get(id)!)).toBe(true);
              reference.remove(id);
              present.delete(id);
            }
          }
          for (let q = 0; q < 5; q++) {
            const query = flipBits(hashes[next() % 200], next() % 40, next);
            expect(small.search(query, threshold)).toEqual(reference.search(query, threshold));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('seals the tail into segments and merges them as it grows, still exact', () => {
    const growing = new PdqIndex();
    const reference = new LinearPdqIndex();
    const more = corpus(7, 20_000);
    more.forEach((hash, i) => {
      growing.add(i + 1, 1, hash);
      reference.add(i + 1, 1, hash);
    });
    expect(growing.stats().segments.length).toBeGreaterThan(1);
    expect(growing.stats().tail).toBeLessThan(4096);
    const next = rng(3);
    for (let q = 0; q < 30; q++)
      expectSameAsLinear(growing, reference, flipBits(more[next() % more.length], next() % 32, next), 31);
  });

  it('compacts after many removals without losing live hashes', () => {
    const shrinking = new PdqIndex();
    const reference = new LinearPdqIndex();
    const many = corpus(11, 30_000);
    many.forEach((hash, i) => {
      shrinking.add(i + 1, 1, hash);
      reference.add(i + 1, 1, hash);
    });
    for (let i = 0; i < many.length; i += 2) {
      shrinking.remove(i + 1, many[i]);
      reference.remove(i + 1);
    }
    expect(shrinking.stats().dead).toBeLessThan(15_000); // compaction ran
    expect(shrinking.count).toBe(many.length - Math.ceil(many.length / 2));
    const next = rng(5);
    for (let q = 0; q < 20; q++)
      expectSameAsLinear(shrinking, reference, flipBits(many[next() % many.length], next() % 32, next), 31);
  });

  it('refuses removing what is not there, and ids out of range', () => {
    expect(index.remove(999_999, hashes[0])).toBe(false);
    expect(() => new PdqIndex().add(0, 1, hashes[0])).toThrow(/ids are 1/);
  });
});

describe('the reference hash lists', () => {
  it('finds the same needles in the haystack as a linear scan at 31', () => {
    const read = (name: string) =>
      readFileSync(join(PDQ_DATA, 'hashlists', name), 'utf8')
        .split(/\r?\n/)
        .map((line) => line.trim().split(/[\s,]+/)[0])
        .filter((hash) => /^[0-9a-f]{64}$/.test(hash));
    const haystack = read('haystack.txt');
    const needles = read('needles.txt');
    expect(haystack.length).toBeGreaterThan(1000);
    expect(needles.length).toBeGreaterThan(50);
    const index = new PdqIndex();
    const linear = new LinearPdqIndex();
    haystack.forEach((hash, i) => {
      index.add(i + 1, 1, hash);
      linear.add(i + 1, 1, hash);
    });
    let found = 0;
    for (const needle of needles) {
      const got = index.search(needle, 31);
      expect(got).toEqual(linear.search(needle, 31));
      found += got.length;
    }
    expect(found).toBeGreaterThan(0);
  });
});

describe('PdqIndex on correlated and adversarial corpora', () => {
  const hexesOf = (words: Uint32Array) =>
    Array.from({ length: words.length / 8 }, (_, i) => pdqWordsToHex(words.subarray(i * 8, i * 8 + 8)));
  const corpora: Record<string, (size: number, seed: number) => Uint32Array> = {
    calibrated: (size, seed) => correlatedCorpus(size, seed, MODELS.calibrated),
    strong: (size, seed) => correlatedCorpus(size, seed, MODELS.strong),
    'all share substring 0': (size, seed) => sharedSubstringCorpus(size, seed, 0),
    'all share substring 9': (size, seed) => sharedSubstringCorpus(size, seed, 9),
    'half the bits constant': (size, seed) => halfConstantCorpus(size, seed),
  };

  it('is identical to a linear scan for every layout, through adds and removes (property-based)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(corpora)),
        fc.constantFrom<LayoutChoice>('identity', 'random', 'greedy', 'greedy-halves'),
        fc.boolean(),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: 40 }),
        (corpusName, layout, splitBuckets, seed, threshold) => {
          const hashes = hexesOf(corpora[corpusName](1500, seed));
          // Small segments choose layouts too, so the tests exercise them.
          const index = new PdqIndex({ layout, layoutMinSegment: 256, splitBuckets });
          const linear = new LinearPdqIndex();
          index.bulkLoad(hashes.slice(0, 1200).map((hash, i) => ({ id: i + 1, bankId: 1 + (i % 2), hash })));
          hashes.slice(0, 1200).forEach((hash, i) => linear.add(i + 1, 1 + (i % 2), hash));
          hashes.slice(1200).forEach((hash, i) => {
            index.add(1201 + i, 3, hash);
            linear.add(1201 + i, 3, hash);
          });
          const next = rng(seed);
          for (let k = 0; k < 100; k++) {
            const id = 1 + (next() % hashes.length);
            if (index.remove(id, hashes[id - 1])) linear.remove(id);
          }
          for (let q = 0; q < 12; q++) {
            const base = hashes[next() % hashes.length];
            const query = flipBits(base, next() % (threshold + 10), next);
            expect(index.search(query, threshold)).toEqual(linear.search(query, threshold));
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('reports bucket statistics that show a skewed list, and the greedy layout spreads it', () => {
    const words = sharedSubstringCorpus(3000, 5, 0);
    const hashes = hexesOf(words);
    const load = (layout: LayoutChoice) => {
      const index = new PdqIndex({ layout, layoutMinSegment: 256 });
      index.bulkLoad(hashes.map((hash, i) => ({ id: i + 1, bankId: 1, hash })));
      return index.bucketStats();
    };
    const identity = load('identity');
    // Every hash has the same first 16 bits: with the identity layout they all land in one bucket of table 0.
    expect(identity.perTable[0].max).toBe(3000);
    expect(identity.largest).toBe(3000);
    expect(identity.perTable[0].weightedMean).toBe(3000);
    expect(identity.layouts).toEqual(['identity']);
    expect(identity.evenLength).toBeCloseTo(3000 / 65536);
    // The greedy layout puts at most a few constant bits in each substring.
    const greedy = load('greedy');
    expect(greedy.layouts).toEqual(['greedy']);
    expect(greedy.largest).toBeLessThan(300);
    expect(greedy.perTable).toHaveLength(16);
  });

  it('splits long buckets by the other half of the pair: same results as unsplit, far fewer hashes read', () => {
    // Half the bits constant, fixed halves: 8 tables with one bucket of every hash, split by the other half.
    const hashes = hexesOf(halfConstantCorpus(30_000, 77));
    const items = hashes.map((hash, i) => ({ id: i + 1, bankId: 1 + (i % 3), hash }));
    const split = new PdqIndex({ layout: 'identity' });
    const unsplit = new PdqIndex({ layout: 'identity', splitBuckets: false });
    const linear = new LinearPdqIndex();
    split.bulkLoad(items);
    unsplit.bulkLoad(items);
    items.forEach((item) => linear.add(item.id, item.bankId, item.hash));
    const next = rng(12);
    const work = { split: 0, unsplit: 0 };
    let found = 0;
    for (let q = 0; q < 60; q++) {
      const threshold = [31, 31, 31, 16, 40, 63][q % 6];
      const query = flipBits(hashes[next() % hashes.length], next() % 36, next);
      const want = linear.search(query, threshold);
      expect(split.search(query, threshold)).toEqual(want);
      const counted = threshold === 31;
      if (counted) work.split += split.lastSearchWork.candidates + split.lastSearchWork.inPlace;
      expect(unsplit.search(query, threshold)).toEqual(want);
      if (counted) work.unsplit += unsplit.lastSearchWork.candidates + unsplit.lastSearchWork.inPlace;
      found += want.length;
    }
    expect(found).toBeGreaterThan(60);
    expect(work.split).toBeLessThan(work.unsplit / 5);
    // Two bytes per hash for the sub-bucket offsets (1/8 byte per posting, 16 tables).
    expect(split.memoryBytes() - unsplit.memoryBytes()).toBe(16 * 2 * Math.ceil(30_000 / 16));
  });

  it('keeps a bucket of 65,536 hashes or more whole (16-bit sub-bucket offsets), still exact', () => {
    const hashes = hexesOf(sharedSubstringCorpus(70_000, 3, 0));
    const index = new PdqIndex({ layout: 'identity' });
    const linear = new LinearPdqIndex();
    index.bulkLoad(hashes.map((hash, i) => ({ id: i + 1, bankId: 1, hash })));
    hashes.forEach((hash, i) => linear.add(i + 1, 1, hash));
    expect(index.bucketStats().perTable[0].max).toBe(70_000);
    const next = rng(70);
    for (let q = 0; q < 10; q++)
      expectSameAsLinear(index, linear, flipBits(hashes[next() % hashes.length], next() % 32, next), 31);
  });

  it('counts the work a search does', () => {
    const index = new PdqIndex({ layout: 'identity' });
    const hash = randomHash(rng(8));
    index.bulkLoad(Array.from({ length: 200 }, (_, i) => ({ id: i + 1, bankId: 1, hash })));
    expect(index.search(hash, 0)).toHaveLength(200);
    // Threshold 0 probes one bucket per table: the first table's 200 hashes are checked in place, the other 15
    // tables' 200 postings each pass the pair filter (same partner bits) and are read.
    expect(index.lastSearchWork).toEqual({ inPlace: 200, postings: 3000, candidates: 3000 });
  });

  it('permutes bits as its layout says', () => {
    const source = Uint8Array.from({ length: 256 }, (_, t) => (t * 77 + 5) % 256);
    const layout = new BitLayout(source);
    for (const t of [0, 1, 31, 32, 100, 255]) {
      const words = new Uint32Array(8);
      words[source[t] >> 5] = (1 << (source[t] & 31)) >>> 0;
      const out = layout.permute(words, 0, new Uint32Array(8));
      const expected = new Uint32Array(8);
      expected[t >> 5] = (1 << (t & 31)) >>> 0;
      expect(out).toEqual(expected);
    }
    expect(() => new BitLayout(new Uint8Array(256))).toThrow(/permutes 256 bits/);
  });
});

describe('PdqIndex touch passes (overlapped reads) and one-byte sub-bucket offsets', () => {
  const hexesOf = (words: Uint32Array) =>
    Array.from({ length: words.length / 8 }, (_, i) => pdqWordsToHex(words.subarray(i * 8, i * 8 + 8)));
  const corpora: Record<string, (size: number, seed: number) => Uint32Array> = {
    strong: (size, seed) => correlatedCorpus(size, seed, MODELS.strong),
    'all share substring 0': (size, seed) => sharedSubstringCorpus(size, seed, 0),
    'all share substring 5': (size, seed) => sharedSubstringCorpus(size, seed, 5),
    'half the bits constant': (size, seed) => halfConstantCorpus(size, seed),
  };

  it('give the same results as a linear scan with and without them, at every probe radius (property-based)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(corpora)),
        fc.constantFrom<LayoutChoice>('identity', 'greedy'),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 1_000_000 }),
        // Radius 0 to 3 on the halves: 0-15, 16-31, 32-47, 48-63 (697 buckets a table, up to 256 ranges each).
        fc.integer({ min: 0, max: 63 }),
        (corpusName, layout, overlapReads, byteOffsets, seed, threshold) => {
          // One segment of 6,000: the adversarial corpora make buckets long enough to split into 2^8 sub-buckets
          // (16-bit offsets), the others are short (one-byte offsets unless byteOffsets is false).
          const hashes = hexesOf(corpora[corpusName](6000, seed));
          const index = new PdqIndex({ layout, layoutMinSegment: 256, overlapReads, byteOffsets });
          const linear = new LinearPdqIndex();
          index.bulkLoad(hashes.map((hash, i) => ({ id: i + 1, bankId: 1, hash })));
          hashes.forEach((hash, i) => linear.add(i + 1, 1, hash));
          const next = rng(seed);
          for (let k = 0; k < 50; k++) {
            const id = 1 + (next() % hashes.length);
            if (index.remove(id, hashes[id - 1])) linear.remove(id);
          }
          for (let q = 0; q < 8; q++) {
            const query = flipBits(hashes[next() % hashes.length], next() % (threshold + 10), next);
            expect(index.search(query, threshold)).toEqual(linear.search(query, threshold));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('do the same work as without them, on a list where every hash shares one substring', () => {
    const hashes = hexesOf(sharedSubstringCorpus(20_000, 9, 0));
    const items = hashes.map((hash, i) => ({ id: i + 1, bankId: 1, hash }));
    const touching = new PdqIndex({ layout: 'identity' });
    const plain = new PdqIndex({ layout: 'identity', overlapReads: false });
    touching.bulkLoad(items);
    plain.bulkLoad(items);
    expect(touching.bucketStats().perTable[0].max).toBe(20_000);
    const next = rng(31);
    let inPlace = 0;
    let found = 0;
    for (let q = 0; q < 20; q++) {
      const query = flipBits(hashes[next() % hashes.length], next() % 32, next);
      const matches = touching.search(query, 31);
      expect(matches).toEqual(plain.search(query, 31));
      expect(touching.lastSearchWork).toEqual(plain.lastSearchWork);
      // The first table's one bucket of every hash is split: a search scans part of it, not all 20,000.
      expect(touching.lastSearchWork.inPlace).toBeLessThan(20_000 / 2);
      inPlace += touching.lastSearchWork.inPlace;
      found += matches.length;
    }
    expect(inPlace).toBeGreaterThan(0);
    expect(found).toBeGreaterThanOrEqual(20);
  });
});
