/**
 * `npm run bench -- hashing`: PDQ and vPDQ speed on a generated corpus.
 * - PDQ core (decoded pixels to hash) at 512x512 and 1024x1024, WebAssembly vs the TypeScript reference.
 * - End to end (decode + PDQ) photos/s on one worker and on all cores, and the decode / PDQ split.
 * - The C++ reference `pdq-photo-hasher` on the same files when PDQ_REFERENCE_HASHER names its binary.
 * - vPDQ frames/s on a generated clip.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage, resizeNearest512 } from '../src/hashing/image-decode.js';
import { pdqBackend, pdqFromPixels, usePdqBackend } from '../src/hashing/pdq/pdq.js';
import { hashVideoFile } from '../src/hashing/vpdq/vpdq.js';
import { hashFilesInParallel } from '../src/hashing/worker-pool.js';

const SIZES = [256, 512, 1024, 2048, 4000];

function syntheticPixels(width: number, height: number, seed: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  let state = seed;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      const i = (y * width + x) * 3;
      const band = ((x * 7) / width + (y * 5) / height) * 40;
      pixels[i] = (band + Math.sin(x / 17 + seed) * 60 + 100) & 255;
      pixels[i + 1] = ((x ^ y) + seed * 13) & 255;
      pixels[i + 2] = (band * 2 + (state >>> 28) * 4) & 255;
    }
  }
  return pixels;
}

async function makeCorpus(dir: string): Promise<string[]> {
  const files: string[] = [];
  let seed = 1;
  for (const size of SIZES) {
    for (const format of ['jpeg', 'png'] as const) {
      for (let copy = 0; copy < 3; copy++) {
        const width = size;
        const height = Math.round(size * (copy === 1 ? 0.75 : 1));
        const image = sharp(syntheticPixels(width, height, seed++), { raw: { width, height, channels: 3 } });
        const path = join(dir, `photo-${size}-${copy}.${format === 'jpeg' ? 'jpg' : 'png'}`);
        await (format === 'jpeg' ? image.jpeg({ quality: 88 }) : image.png({ compressionLevel: 6 })).toFile(
          path,
        );
        files.push(path);
      }
    }
  }
  return files;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timeCore(size: number, runs: number): number {
  const pixels = syntheticPixels(size, size, size);
  for (let i = 0; i < 5; i++) pdqFromPixels(pixels, size, size, 3);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    pdqFromPixels(pixels, size, size, 3);
    times.push(performance.now() - start);
  }
  return median(times);
}

async function endToEnd(files: string[], jobs: number): Promise<number> {
  const start = performance.now();
  for await (const outcome of hashFilesInParallel(files, { types: ['pdq'] }, jobs)) {
    if (!outcome.ok) throw new Error(`${outcome.path}: ${outcome.error.message}`);
  }
  return (performance.now() - start) / 1000;
}

async function split(files: string[]): Promise<{ decodeMs: number; pdqMs: number }> {
  let decodeMs = 0;
  let pdqMs = 0;
  for (const file of files) {
    const t0 = performance.now();
    const image = await decodeImage(file);
    const t1 = performance.now();
    pdqFromPixels(image.pixels, image.width, image.height, image.channels);
    pdqMs += performance.now() - t1;
    decodeMs += t1 - t0;
  }
  return { decodeMs: decodeMs / files.length, pdqMs: pdqMs / files.length };
}

/** The C++ CLI resizes to 512 first, so ours runs the same 512 pipeline for a like-for-like comparison. */
async function ours512(files: string[]): Promise<number> {
  const start = performance.now();
  for (const file of files) {
    const image = resizeNearest512(await decodeImage(file));
    pdqFromPixels(image.pixels, image.width, image.height, image.channels);
  }
  return (performance.now() - start) / 1000;
}

function reference(files: string[]): { seconds: number; binary: string } | { skipped: string } {
  const binary = process.env.PDQ_REFERENCE_HASHER;
  if (!binary) return { skipped: 'set PDQ_REFERENCE_HASHER to the C++ pdq-photo-hasher binary to compare' };
  const start = performance.now();
  const result = spawnSync(binary, files, { encoding: 'utf8' });
  if (result.status !== 0) return { skipped: `reference hasher failed: ${result.stderr.slice(0, 200)}` };
  return { seconds: (performance.now() - start) / 1000, binary };
}

async function vpdqFramesPerSecond(dir: string): Promise<{ frames: number; seconds: number; size: string }> {
  const clip = join(dir, 'clip.mp4');
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=duration=10:size=640x360:rate=30',
    '-pix_fmt',
    'yuv420p',
    clip,
  ]);
  const start = performance.now();
  const result = await hashVideoFile(clip, { secondsPerHash: 0 });
  return { frames: result.frames.length, seconds: (performance.now() - start) / 1000, size: '640x360' };
}

export async function run(): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'kaitiaki-bench-hashing-'));
  try {
    const files = await makeCorpus(dir);
    const log = (message: string) => process.stderr.write(`bench hashing: ${message}\n`);
    log(`${files.length} photos from ${SIZES[0]} to ${SIZES[SIZES.length - 1]} px`);
    usePdqBackend('wasm');
    const backend = pdqBackend();
    const core512 = timeCore(512, 200);
    const core1024 = timeCore(1024, 100);
    usePdqBackend('js');
    const js512 = timeCore(512, 50);
    const js1024 = timeCore(1024, 30);
    usePdqBackend('wasm');
    log(`PDQ core: ${core512.toFixed(2)} ms at 512, ${core1024.toFixed(2)} ms at 1024 (${backend})`);
    const { decodeMs, pdqMs } = await split(files);
    const single = await endToEnd(files, 1);
    const all = await endToEnd(files, availableParallelism());
    log(
      `end to end: ${(files.length / single).toFixed(1)} photos/s on 1 worker, ${(files.length / all).toFixed(1)} on ${availableParallelism()}`,
    );
    const ours = await ours512(files);
    const ref = reference(files);
    const video = await vpdqFramesPerSecond(dir);
    log(`vPDQ: ${(video.frames / video.seconds).toFixed(0)} frames/s at ${video.size}`);
    return {
      machine: { cpu: cpus()[0]?.model, cores: availableParallelism(), node: process.version },
      corpus: { photos: files.length, sizes_px: SIZES, formats: ['jpeg', 'png'] },
      pdq_backend: backend,
      pdq_core_ms_512: core512,
      pdq_core_ms_1024: core1024,
      pdq_core_ms_512_typescript: js512,
      pdq_core_ms_1024_typescript: js1024,
      wasm_speedup_1024: js1024 / core1024,
      decode_ms_mean: decodeMs,
      pdq_ms_mean: pdqMs,
      photos_per_s_single: files.length / single,
      photos_per_s_all_cores: files.length / all,
      cores: availableParallelism(),
      reference_cpp:
        'seconds' in ref
          ? {
              binary: ref.binary,
              photos_per_s: files.length / ref.seconds,
              ours_512_pipeline_photos_per_s: files.length / ours,
              ours_full_resolution_photos_per_s_single: files.length / single,
              speedup_512_pipeline: ref.seconds / ours,
              speedup_full_resolution_single: ref.seconds / single,
            }
          : { skipped: ref.skipped },
      vpdq_frames: video.frames,
      vpdq_frames_per_s: video.frames / video.seconds,
      vpdq_clip: video.size,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
