/**
 * `node dist/bench/pdq-corpus-calibration.js`: prints the statistics the correlated corpus is calibrated on, for
 * the real hashes in ../shared/testdata and for 1,350 hashes of each model, without clusters (the haystack's size, so the
 * sampling noise of the estimators is the same): per-bit imbalance |mean - 0.5| (median, 90th percentile), the
 * pairwise-distance distribution (mean, 1st, 5th, 50th percentiles, share <= 31) and the mean absolute
 * correlation between bit positions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hammingWords, pdqHexToWords } from '../src/hashing/pdq/hash256.js';
import { MODELS, correlatedCorpus, randomCorpus } from './pdq-corpus.js';

const DATA = join(process.cwd(), '..', 'shared', 'testdata');

function hexesOf(file: string, minQuality = 0): string[] {
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((line) => {
      const fields = line.split(',');
      return !(fields.length === 4 && Number(fields[1]) < minQuality);
    })
    .map((line) => /[0-9a-f]{64}/.exec(line)?.[0])
    .filter((hex): hex is string => hex !== undefined);
}

export function stats(words: Uint32Array): Record<string, number> {
  const n = words.length / 8;
  const bit = (i: number, k: number) => (words[i * 8 + (k >> 5)] >>> (k & 31)) & 1;
  const mean = new Float64Array(256);
  for (let i = 0; i < n; i++) for (let k = 0; k < 256; k++) mean[k] += bit(i, k) / n;
  const imbalance = [...mean].map((m) => Math.abs(m - 0.5)).sort((a, b) => a - b);
  const distances: number[] = [];
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) distances.push(hammingWords(words, words, i * 8, j * 8));
  distances.sort((a, b) => a - b);
  const pct = (p: number) => distances[Math.floor(p * (distances.length - 1))];
  let corr = 0;
  let pairs = 0;
  for (let a = 0; a < 256; a++)
    for (let b = a + 1; b < 256; b++) {
      let both = 0;
      for (let i = 0; i < n; i++) both += bit(i, a) & bit(i, b);
      const sd = Math.sqrt(mean[a] * (1 - mean[a]) * mean[b] * (1 - mean[b]));
      if (sd > 0) corr += Math.abs((both / n - mean[a] * mean[b]) / sd);
      pairs++;
    }
  return {
    hashes: n,
    imbalance_median: imbalance[128],
    imbalance_p90: imbalance[230],
    distance_mean: distances.reduce((s, d) => s + d, 0) / distances.length,
    distance_p1: pct(0.01),
    distance_p5: pct(0.05),
    distance_p50: pct(0.5),
    share_within_31: distances.filter((d) => d <= 31).length / distances.length,
    mean_abs_correlation: corr / pairs,
  };
}

function wordsOf(hexes: string[]): Uint32Array {
  const unique = [...new Set(hexes)];
  const words = new Uint32Array(unique.length * 8);
  unique.forEach((hex, i) => words.set(pdqHexToWords(hex), i * 8));
  return words;
}

const vpdqDir = join(DATA, 'vpdq', 'expected');
const vpdq = readdirSync(vpdqDir)
  .filter((f) => !f.includes('128x128'))
  .flatMap((f) => hexesOf(join(vpdqDir, f), 50));
const rows: Record<string, Record<string, number>> = {
  haystack: stats(wordsOf(hexesOf(join(DATA, 'pdq', 'hashlists', 'haystack.txt')))),
  images: stats(wordsOf(hexesOf(join(DATA, 'pdq', 'expected-full-resolution.csv')))),
  vpdq_frames: stats(wordsOf(vpdq)),
  model_random: stats(randomCorpus(1350, 1)),
  model_calibrated: stats(correlatedCorpus(1350, 1, { ...MODELS.calibrated, videoShare: 0, memeShare: 0 })),
  model_strong: stats(correlatedCorpus(1350, 1, { ...MODELS.strong, videoShare: 0, memeShare: 0 })),
  model_strong_clustered: stats(correlatedCorpus(1350, 1, MODELS.strong)),
};
for (const [name, row] of Object.entries(rows))
  process.stdout.write(
    `${name.padEnd(17)} ${Object.entries(row)
      .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(3)}`)
      .join('  ')}\n`,
  );
