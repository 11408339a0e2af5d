/**
 * A drill's synthetic uploads: perturbed variants (re-encode, crop, logo, mirror, screen recording) of the frames
 * and the clip of an attack, hashed as a platform would hash its uploads, each marked as within or out of reach
 * of the hashes the coordinator banks (PDQ ≤ 31 with usable quality; the vPDQ match rule for the clip). A drill
 * then reports what it blocked among the variants in reach, and how many it could never block.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashBuffer, hashFile, type HashResult } from '../hashing/hash-file.js';
import { pdqDistance } from '../hashing/pdq/hash256.js';
import { PDQ_MATCH_THRESHOLD, PDQ_QUALITY_THRESHOLD } from '../hashing/pdq/pdq.js';
import { compareVideos } from '../hashing/vpdq/compare.js';
import { formatVpdqSignal } from '../hashing/vpdq/format.js';
import { imageVariant, TRANSFORM_NAMES, videoVariant, type TransformName } from '../media/variants.js';

export interface DrillSignal {
  type: 'pdq' | 'vpdq';
  value: string;
}

export interface DrillVariant {
  media: 'frame' | 'clip';
  transform: TransformName;
  seed: number;
  signal: DrillSignal;
  /** Whether a bank holding the drill's banked hashes can match it at threshold 31. */
  reachable: boolean;
}

export interface DrillCorpus {
  /** What the coordinator adds to the incident bank: the frames' PDQ (and flips, if asked) and the clip's vPDQ. */
  banked: DrillSignal[];
  variants: DrillVariant[];
}

export interface CorpusOptions {
  frames: string[];
  clip?: string | null;
  transforms?: readonly TransformName[];
  /** Variants per frame and transform. */
  frameVariants: number;
  /** Variants of the clip per transform (video variants take seconds each). */
  clipVariants: number;
  /** Also bank the 8 rotations and flips of each frame (then mirrored copies are in reach). */
  bankFlips?: boolean;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

function pdqSignal(result: HashResult): DrillSignal | null {
  return result.pdq && (result.quality ?? 0) >= PDQ_QUALITY_THRESHOLD
    ? { type: 'pdq', value: result.pdq }
    : null;
}

export async function buildCorpus(options: CorpusOptions): Promise<DrillCorpus> {
  const transforms = options.transforms ?? TRANSFORM_NAMES;
  const seed0 = options.seed ?? 1;
  const total =
    options.frames.length * transforms.length * options.frameVariants +
    (options.clip ? transforms.length * options.clipVariants : 0);
  let done = 0;
  const step = () => options.onProgress?.(++done, total);

  const banked: DrillSignal[] = [];
  const bankedFrames: string[] = [];
  const variants: DrillVariant[] = [];
  for (const path of options.frames) {
    const image = await readFile(path);
    const original = await hashBuffer(image, { types: ['pdq'], dihedral: options.bankFlips === true });
    const signal = pdqSignal(original);
    if (!signal) continue; // a frame too flat to hash usefully is not banked (and its variants not replayed)
    const flips = options.bankFlips ? Object.values(original.dihedral ?? {}) : [];
    for (const value of [signal.value, ...flips]) if (!bankedFrames.includes(value)) bankedFrames.push(value);
    for (const transform of transforms)
      for (let i = 0; i < options.frameVariants; i++) {
        const seed = seed0 + i;
        const variant = await hashBuffer(await imageVariant(image, transform, seed), { types: ['pdq'] });
        const hashed = pdqSignal(variant);
        step();
        if (!hashed) continue;
        const reachable = bankedFrames.some((b) => pdqDistance(b, hashed.value) <= PDQ_MATCH_THRESHOLD);
        variants.push({ media: 'frame', transform, seed, signal: hashed, reachable });
      }
  }
  banked.push(...bankedFrames.map((value) => ({ type: 'pdq' as const, value })));

  if (options.clip) {
    const original = await hashFile(options.clip, { types: ['vpdq'] });
    const frames = original.vpdq ?? [];
    banked.push({ type: 'vpdq', value: formatVpdqSignal(frames) });
    const dir = await mkdtemp(join(tmpdir(), 'kaitiaki-drill-'));
    try {
      for (const transform of transforms)
        for (let i = 0; i < options.clipVariants; i++) {
          const seed = seed0 + i;
          const out = join(dir, `${transform}-${seed}.mp4`);
          await videoVariant(options.clip, out, transform, seed);
          const hashed = (await hashFile(out, { types: ['vpdq'] })).vpdq ?? [];
          step();
          if (hashed.length === 0) continue;
          variants.push({
            media: 'clip',
            transform,
            seed,
            signal: { type: 'vpdq', value: formatVpdqSignal(hashed) },
            reachable: compareVideos(hashed, frames).match,
          });
        }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return { banked, variants };
}

/** How many variants of each transform are in reach, and how many not. */
export function reachSummary(
  corpus: DrillCorpus,
): Record<string, { variants: number; reachable: number; out_of_reach: number }> {
  const summary: Record<string, { variants: number; reachable: number; out_of_reach: number }> = {};
  for (const v of corpus.variants) {
    const key = `${v.media}:${v.transform}`;
    summary[key] ??= { variants: 0, reachable: 0, out_of_reach: 0 };
    summary[key].variants += 1;
    if (v.reachable) summary[key].reachable += 1;
    else summary[key].out_of_reach += 1;
  }
  return summary;
}
