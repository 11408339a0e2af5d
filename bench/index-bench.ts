/**
 * `npm run bench -- index [--sizes 1000000,10000000] [--queries 2000] [--corpora random,calibrated,correlated]
 * [--variants greedy-no-touch,greedy]`: the PDQ index against a linear scan of the same hashes, at threshold 31,
 * on corpora from bench/pdq-corpus.ts: uniformly random hashes plus clusters of near-duplicates; 'calibrated',
 * correlated hashes from the latent-factor model fitted to the reference haystack, with video-frame and meme-edit
 * clusters; 'correlated', the same with the model's 'strong' correlation (a harder stress corpus). Each corpus is
 * indexed once per variant, so the alternatives are measured in the same run, interleaved query by query. A
 * variant is a bit layout (identity: fixed halves; random: one random permutation per segment; greedy-halves:
 * chosen from a sample so each half's bits are independent; greedy: the same over 32-bit pairs, the default),
 * with long buckets split by the other half of the pair (the default) or not ('-unsplit'), and with the touch
 * passes that overlap a search's cache misses (the default) or without them ('-no-touch'). 'greedy-no-touch' is
 * the index before the touch passes: the baseline.
 * Queries: half near-duplicates of indexed hashes, half fresh hashes from the corpus's distribution.
 */
import { hammingWords } from '../src/hashing/pdq/hash256.js';
import { PdqIndex, type LayoutChoice, type PdqMatch } from '../src/index/pdq-index.js';
import {
  MODELS,
  correlatedCorpus,
  freshFromModel,
  freshRandom,
  makeQueries,
  randomCorpus,
} from './pdq-corpus.js';

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

/** An index configuration: a bit layout, with long buckets split (the default) or not ('-unsplit'). */
interface Variant {
  name: string;
  layout: LayoutChoice;
  split: boolean;
  overlapReads: boolean;
  byteOffsets: boolean;
}

interface Args {
  sizes: number[];
  queries: number;
  corpora: string[];
  variants: Variant[];
}

function parseArgs(args: string[]): Args {
  const get = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const variants = (get('--variants') ?? get('--layouts') ?? 'greedy-wide-offsets-no-touch,greedy')
    .split(',')
    .map((name) => {
      // LAYOUT[-unsplit][-wide-offsets][-no-touch]
      const overlapReads = !name.endsWith('-no-touch');
      let rest = name.replace(/-no-touch$/, '');
      const byteOffsets = !rest.endsWith('-wide-offsets');
      rest = rest.replace(/-wide-offsets$/, '');
      const layout = rest.replace(/-unsplit$/, '');
      if (!['identity', 'random', 'greedy', 'greedy-halves'].includes(layout))
        throw new Error(`unknown variant "${name}"`);
      return {
        name,
        layout: layout as LayoutChoice,
        split: !rest.endsWith('-unsplit'),
        overlapReads,
        byteOffsets,
      };
    });
  const corpora = (get('--corpora') ?? 'random,calibrated,correlated').split(',');
  for (const corpus of corpora)
    if (!['random', 'correlated', 'calibrated'].includes(corpus))
      throw new Error(`unknown corpus "${corpus}"`);
  return {
    sizes: (get('--sizes') ?? '1000000,10000000').split(',').map(Number),
    queries: Number(get('--queries') ?? 2000),
    corpora,
    variants,
  };
}

function buildCorpus(name: string, size: number): { corpus: Uint32Array; fresh: (out: Uint32Array) => void } {
  if (name === 'random') return { corpus: randomCorpus(size, size), fresh: freshRandom(size) };
  const model = name === 'correlated' ? MODELS.strong : MODELS.calibrated;
  // 'calibrated' matches the reference haystack; 'correlated' (the 'strong' model) is the harder stress corpus.
  return { corpus: correlatedCorpus(size, size, model), fresh: freshFromModel(model, size) };
}

interface Built {
  variant: Variant;
  index: PdqIndex;
  loadSeconds: number;
  loadCpuSeconds: number;
  times: number[];
  cpuTimes: number[];
  postings: number[];
  candidates: number[];
  matches: number;
}

function build(corpus: Uint32Array, variant: Variant, log: (message: string) => void): Built {
  const size = corpus.length / 8;
  const index = new PdqIndex({
    layout: variant.layout,
    splitBuckets: variant.split,
    overlapReads: variant.overlapReads,
    byteOffsets: variant.byteOffsets,
  });
  const loadStart = performance.now();
  const loadCpu = process.cpuUsage();
  index.reserve(size);
  for (let i = 0; i < size; i++) index.appendRaw(i + 1, 1, corpus.subarray(i * 8, i * 8 + 8));
  index.finishBulk();
  const loadSeconds = (performance.now() - loadStart) / 1000;
  // CPU time too: on a shared machine the wall clock of a build varies more than the work it does.
  const used = process.cpuUsage(loadCpu);
  const loadCpuSeconds = (used.user + used.system) / 1e6;
  const buckets = index.bucketStats();
  log(
    `${variant.name}: built in ${loadSeconds.toFixed(2)} s (CPU ${loadCpuSeconds.toFixed(2)} s), ${(index.memoryBytes() / size).toFixed(1)} bytes/hash, largest bucket ${buckets.largest}, p99 ${buckets.p99}`,
  );
  return {
    variant,
    index,
    loadSeconds,
    loadCpuSeconds,
    times: [],
    cpuTimes: [],
    postings: [],
    candidates: [],
    matches: 0,
  };
}

/**
 * Times every layout's index on the same queries, interleaved (each query goes to every index, in rotating
 * order), so the layouts see the same machine load: the machine is shared.
 */
function benchLayouts(
  corpusName: string,
  corpus: Uint32Array,
  queries: Uint32Array[],
  expected: PdqMatch[][],
  linearTimes: number[],
  variants: Variant[],
  threshold: number,
): Record<string, unknown>[] {
  const size = corpus.length / 8;
  const log = (message: string) => process.stderr.write(`bench index ${size} ${corpusName} ${message}\n`);
  const built = variants.map((variant) => build(corpus, variant, log));
  for (const b of built)
    for (let i = 0; i < Math.min(200, queries.length); i++) b.index.search(queries[i], threshold); // warm-up
  queries.forEach((query, q) => {
    for (let k = 0; k < built.length; k++) {
      const b = built[(q + k) % built.length];
      const c = process.cpuUsage();
      const t = performance.now();
      b.matches += b.index.search(query, threshold).length;
      b.times.push(performance.now() - t);
      // CPU time too: wall-clock percentiles include time the process was not running on a shared machine.
      const used = process.cpuUsage(c);
      b.cpuTimes.push((used.user + used.system) / 1000);
      // The work done, which does not depend on the machine's load.
      b.postings.push(b.index.lastSearchWork.postings + b.index.lastSearchWork.inPlace);
      b.candidates.push(b.index.lastSearchWork.candidates);
    }
  });
  const linearP50 = percentile(linearTimes, 0.5);
  return built.map((b) => {
    const { index, times, cpuTimes } = b;
    times.sort((x, y) => x - y);
    cpuTimes.sort((x, y) => x - y);
    b.postings.sort((x, y) => x - y);
    b.candidates.sort((x, y) => x - y);
    let identical = true;
    expected.forEach((want, q) => {
      if (JSON.stringify(index.search(queries[q], threshold)) !== JSON.stringify(want)) identical = false;
    });
    const buckets = index.bucketStats();
    const p50 = percentile(times, 0.5);
    log(
      `${b.variant.name}: p50 ${p50.toFixed(3)} ms, p99 ${percentile(times, 0.99).toFixed(3)} ms, cpu p50 ${percentile(cpuTimes, 0.5).toFixed(3)} p99 ${percentile(cpuTimes, 0.99).toFixed(3)} ms, linear p50 ${linearP50.toFixed(1)} ms, identical ${identical}`,
    );
    return {
      corpus: corpusName,
      variant: b.variant.name,
      layout: b.variant.layout,
      split_buckets: b.variant.split,
      overlap_reads: b.variant.overlapReads,
      byte_offsets: b.variant.byteOffsets,
      size,
      threshold,
      queries: queries.length,
      p50_ms: p50,
      p99_ms: percentile(times, 0.99),
      max_ms: times[times.length - 1],
      cpu_p50_ms: percentile(cpuTimes, 0.5),
      cpu_p99_ms: percentile(cpuTimes, 0.99),
      mean_matches_per_query: b.matches / queries.length,
      postings_scanned_p50: percentile(b.postings, 0.5),
      postings_scanned_p99: percentile(b.postings, 0.99),
      hashes_read_p50: percentile(b.candidates, 0.5),
      hashes_read_p99: percentile(b.candidates, 0.99),
      linear_queries: expected.length,
      linear_p50_ms: linearP50,
      speedup: linearP50 / p50,
      identical_to_linear: identical,
      bytes_per_hash: index.memoryBytes() / size,
      build_s: b.loadSeconds,
      build_cpu_s: b.loadCpuSeconds,
      segments: index.stats().segments.length,
      bucket_largest: buckets.largest,
      bucket_p99: buckets.p99,
      bucket_even_length: buckets.evenLength,
      bucket_weighted_mean_worst_table: Math.max(...buckets.perTable.map((t) => t.weightedMean)),
    };
  });
}

export async function run(args: string[]): Promise<unknown> {
  const { sizes, queries: queryCount, corpora, variants } = parseArgs(args);
  const threshold = 31;
  const runs = [];
  for (const size of sizes)
    for (const corpusName of corpora) {
      const started = performance.now();
      const { corpus, fresh } = buildCorpus(corpusName, size);
      process.stderr.write(
        `bench index ${size} ${corpusName}: corpus in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
      );
      const queries = makeQueries(corpus, queryCount, size + 1, fresh);
      // The linear scan is slow at this size: time it on a subset; every layout must give the same results there.
      const linearCount = Math.max(10, Math.min(100, Math.floor(2e9 / size / 20)));
      const linearTimes: number[] = [];
      const expected: PdqMatch[][] = [];
      for (let q = 0; q < linearCount; q++) {
        const t = performance.now();
        expected.push(linearScan(corpus, size, queries[q], threshold));
        linearTimes.push(performance.now() - t);
      }
      linearTimes.sort((a, b) => a - b);
      runs.push(...benchLayouts(corpusName, corpus, queries, expected, linearTimes, variants, threshold));
    }
  return runs;
}
