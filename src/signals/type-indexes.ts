/**
 * The three index shapes a signal type can choose from, adapted to SignalTypeIndex: a hash table for exact
 * values, multi-index hashing for 256-bit Hamming hashes, and the frame index for videos.
 */
import { pdqHexToWordsUnchecked } from '../hashing/pdq/hash256.js';
import { ExactIndex } from '../index/exact-index.js';
import { PdqIndex } from '../index/pdq-index.js';
import { VpdqIndex, type VpdqFrameInput } from '../index/vpdq-index.js';
import type { SignalTypeIndex, TypeIndexMatch, TypeIndexSearchOptions } from './signal-type.js';

export function exactTypeIndex(): SignalTypeIndex {
  const index = new ExactIndex();
  return {
    get count() {
      return index.count;
    },
    add: (id, bankId, value) => index.add(id, bankId, value),
    remove: (id, value) => void index.remove(id, value),
    search: (value, _threshold, options: TypeIndexSearchOptions = {}) =>
      index.lookup(value, options.bankFilter).map((m) => ({ ...m, distance: 0 })),
    memoryBytes: () => index.memoryBytes(),
  };
}

/** A 256-bit Hamming index (PDQ); start-up appends raw words and builds the tables once. */
export function hammingTypeIndex(index = new PdqIndex()): SignalTypeIndex {
  return {
    get count() {
      return index.count;
    },
    add: (id, bankId, value) => index.add(id, bankId, value),
    remove: (id, value) => void index.remove(id, value),
    search: (value, threshold, options = {}): TypeIndexMatch[] =>
      index.search(value, threshold, options).map((m) => ({ ...m })),
    memoryBytes: () => index.memoryBytes(),
    bucketStats: () => index.bucketStats(),
    load: (id, bankId, value) => index.appendRaw(id, bankId, pdqHexToWordsUnchecked(value)),
    finishLoad: () => index.finishBulk(),
  };
}

/** Parses a vPDQ signal value (a JSON array of "hex,quality,timestamp") into frames. */
export function vpdqFramesOf(value: string): VpdqFrameInput[] {
  return (JSON.parse(value) as string[]).map((feature) => {
    const [pdq, quality] = feature.split(',');
    return { pdq, quality: Number(quality) };
  });
}

/** The video index: frames in a PDQ index, a video matches on the share of its frames (vPDQ's rule). */
export function videoTypeIndex(): SignalTypeIndex {
  const index = new VpdqIndex();
  return {
    get count() {
      return index.count;
    },
    add: (id, bankId, value) => void index.add(id, bankId, vpdqFramesOf(value)),
    remove: (id) => void index.remove(id),
    search: (value, threshold, options = {}) =>
      index.search(vpdqFramesOf(value), { distance: threshold, bankFilter: options.bankFilter }).map((m) => ({
        id: m.id,
        bankId: m.bankId,
        distance: Math.round((100 - m.queryMatchPercent) * 100) / 100,
        detail: `${m.queryMatchPercent.toFixed(0)}%[${m.comparedMatchPercent.toFixed(0)}%]`,
      })),
    memoryBytes: () => index.memoryBytes(),
    bucketStats: () => index.bucketStats(),
  };
}
