/**
 * `npm run bench -- index [--sizes 1000000,10000000] [--queries 2000]`: the PDQ index against a linear scan of
 * the same hashes, on corpora like real lists (random hashes plus clusters of near-duplicates), with queries
 * half near-duplicates of indexed hashes and half random, at threshold 31.
 */
import { xorshift32 as xorshift } from '../src/core/random.js';
import { hammingWords } from '../src/hashing/pdq/hash256.js';
import { PdqIndex, type PdqMatch } from '../src/index/pdq-index.js';

function flip(words: Uint32Array, offset: number, bits: number, next: () => number): void {
  for (let i = 0; i < bits; i++) {
    const bit = next() % 256;
    words[offset + (bit >> 5)] ^= 1 << (bit & 31);
  }
}

/** 90% random hashes, 10% in clusters of ~100 near-duplicates (0-20 bits from a centre). */
function makeCorpus(size: number, next: () => number): Uint32Array {
  const words = new Uint32Array(size * 8);
  for (let i = 0; i < words.length; i++) words[i] = next();
  const clustered = Math.floor(size / 10);
  const centres = Math.max(1, Math.floor(clustered / 100));
  for (let i = 0; i < clustered; i++) {
    const centre = size - 1 - (next() % centres);
    words.copyWithin(i * 8, centre * 8, centre * 8 + 8);
    flip(words, i * 8, next() % 21, next);
  }
  return words;
}

function makeQueries(corpus: Uint32Array, size: number, count: number, next: () => number): Uint32Array[] {
  return Array.from({ length: count }, (_, q) => {
    const query = new Uint32Array(8);
    if (q % 2 === 0) {
      const source = next() % size;
      query.set(corpus.subarray(source * 8, source * 8 + 8));
      flip(query, 0, next() % 31, next);
    } else {
      for (let w = 0; w < 8; w++) query[w] = next();
    }
    return query;
  });
}

function linearScan(corpus: Uint32Array, size: number, query: Uint32Array, threshold: number): PdqMatch[] {
  const matches: PdqMatch[] = [];
  for (let i = 0; i < size; i++) {
    const distance = hammingWords(query, corpus, 0, i * 8);
    if (distance <= threshold) matches.push({ id: i + 1, bankId: 1, distance });
  }
  return matches.sort((a, b) => a.distance - b.distance || a.id - b.id);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function parseArgs(args: string[]): { sizes: number[]; queries: number } {
  const get = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  return {
    sizes: (get('--sizes') ?? '1000000,10000000').split(',').map(Number),
    queries: Number(get('--queries') ?? 2000),
  };
}

async function benchSize(
  size: number,
  queryCount: number,
  threshold: number,
): Promise<Record<string, unknown>> {
  const log = (message: string) => process.stderr.write(`bench index ${size}: ${message}\n`);
  const next = xorshift(size);
  const corpus = makeCorpus(size, next);
  const index = new PdqIndex();
  const loadStart = performance.now();
  index.reserve(size);
  for (let i = 0; i < size; i++) index.appendRaw(i + 1, 1, corpus.subarray(i * 8, i * 8 + 8));
  index.finishBulk();
  const loadSeconds = (performance.now() - loadStart) / 1000;
  log(`loaded in ${loadSeconds.toFixed(2)} s, ${(index.memoryBytes() / size).toFixed(1)} bytes/hash`);
  const queries = makeQueries(corpus, size, queryCount, next);
  for (let i = 0; i < Math.min(200, queries.length); i++) index.search(queries[i], threshold); // warm-up
  const times: number[] = [];
  let matches = 0;
  const started = performance.now();
  for (const query of queries) {
    const t = performance.now();
    matches += index.search(query, threshold).length;
    times.push(performance.now() - t);
  }
  const totalSeconds = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  // The linear scan is slow at this size: time it on a subset, and check both give the same results there.
  const linearCount = Math.max(10, Math.min(100, Math.floor(2e9 / size / 200)));
  const linearTimes: number[] = [];
  let identical = true;
  for (let q = 0; q < linearCount; q++) {
    const query = queries[q];
    const t = performance.now();
    const expected = linearScan(corpus, size, query, threshold);
    linearTimes.push(performance.now() - t);
    const got = index.search(query, threshold);
    if (JSON.stringify(got) !== JSON.stringify(expected)) identical = false;
  }
  linearTimes.sort((a, b) => a - b);
  const p50 = percentile(times, 0.5);
  const linearP50 = percentile(linearTimes, 0.5);
  log(
    `p50 ${p50.toFixed(3)} ms, p99 ${percentile(times, 0.99).toFixed(3)} ms, linear p50 ${linearP50.toFixed(1)} ms, identical ${identical}`,
  );
  return {
    size,
    threshold,
    queries: queryCount,
    p50_ms: p50,
    p99_ms: percentile(times, 0.99),
    max_ms: times[times.length - 1],
    qps: queryCount / totalSeconds,
    mean_matches_per_query: matches / queryCount,
    linear_queries: linearCount,
    linear_p50_ms: linearP50,
    speedup: linearP50 / p50,
    bytes_per_hash: index.memoryBytes() / size,
    load_s: loadSeconds,
    identical_to_linear: identical,
    segments: index.stats().segments.length,
  };
}

export async function run(args: string[]): Promise<unknown> {
  const { sizes, queries } = parseArgs(args);
  const runs = [];
  for (const size of sizes) runs.push(await benchSize(size, queries, 31));
  return runs;
}
