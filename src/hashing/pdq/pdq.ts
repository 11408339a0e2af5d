/**
 * PDQ perceptual image hashing, bit-exact with the reference C++ implementation (facebook/ThreatExchange
 * pdq/cpp/hashing/pdqhashing.cpp).
 *
 * Every intermediate value is float32 and every operation happens in the reference's order: a running sum
 * rounds differently if it is reordered, and a single flipped comparison flips a hash bit. In JavaScript the
 * rounding comes from `Math.fround` after each + - * / and from storing into Float32Arrays. (Computing a
 * float32 op in double and rounding once is exact for + - * /, since 53 >= 2 * 24 + 2.)
 */
import { packBits, pdqWordsToHex } from './hash256.js';
import { wasmAvailable, wasmDct, wasmGrid64 } from './pdq-wasm.js';

const f = Math.fround;

export const PDQ_MIN_HASHABLE_DIM = 5;
export const PDQ_QUALITY_THRESHOLD = 50;
export const PDQ_MATCH_THRESHOLD = 31;
const JAROSZ_PASSES = 2;

export interface PdqHash {
  /** 64 lower-case hex characters. */
  hash: string;
  /** 0-100; hashes below 50 are too flat to match on. */
  quality: number;
}

export const DIHEDRAL_NAMES = [
  'original',
  'rotate90',
  'rotate180',
  'rotate270',
  'flipx',
  'flipy',
  'flipplus1',
  'flipminus1',
] as const;
export type DihedralName = (typeof DIHEDRAL_NAMES)[number];
export type PdqDihedral = PdqHash & { variants: Record<DihedralName, string> };

const LUMA_R = f(0.299);
const LUMA_G = f(0.587);
const LUMA_B = f(0.114);

/** The 16x64 DCT matrix without the DC row: D[i][j] = sqrt(2/64) cos(pi/128 (i+1)(2j+1)), stored as float. */
const DCT_MATRIX: Float32Array = (() => {
  const m = new Float32Array(16 * 64);
  const scale = f(Math.sqrt(2 / 64));
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) m[i * 64 + j] = scale * Math.cos((Math.PI / 2 / 64) * (i + 1) * (2 * j + 1));
  }
  return m;
})();

/**
 * Luminance of interleaved 8-bit pixels: Y = (0.299 R + 0.587 G) + 0.114 B in float32. Grey pixels (one or
 * two channels) go through the same formula with R = G = B, as a decoder that expands grey to RGB would.
 */
export function lumaFromPixels(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  out: Float32Array = new Float32Array(width * height),
): Float32Array {
  const n = width * height;
  if (channels >= 3) {
    for (let p = 0, o = 0; o < n; p += channels, o++) {
      out[o] = f(f(LUMA_R * pixels[p]) + f(LUMA_G * pixels[p + 1])) + f(LUMA_B * pixels[p + 2]);
    }
  } else {
    for (let p = 0, o = 0; o < n; p += channels, o++) {
      const v = pixels[p];
      out[o] = f(f(LUMA_R * v) + f(LUMA_G * v)) + f(LUMA_B * v);
    }
  }
  return out;
}

/** Window size of each box pass: ceil(oldDim / (2 * 64)) in the reference's integer form. */
export function jaroszWindowSize(oldDim: number, newDim = 64): number {
  return Math.floor((oldDim + 2 * newDim - 1) / (2 * newDim));
}

/**
 * One running-sum box filter along a vector of `length` samples `stride` apart, with windows that shrink at
 * the edges (the reference's box1DFloat, phase for phase).
 */
function box1D(
  input: Float32Array,
  output: Float32Array,
  start: number,
  length: number,
  stride: number,
  window: number,
): void {
  const half = (window + 2) >> 1;
  const phase1 = half - 1;
  const phase2 = window - half + 1;
  const phase3 = length - window;
  const phase4 = half - 1;
  let li = start;
  let ri = start;
  let oi = start;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < phase1; i++) {
    sum = f(sum + input[ri]);
    count++;
    ri += stride;
  }
  for (let i = 0; i < phase2; i++) {
    sum = f(sum + input[ri]);
    count++;
    output[oi] = sum / count;
    ri += stride;
    oi += stride;
  }
  for (let i = 0; i < phase3; i++) {
    sum = f(sum + input[ri]);
    sum = f(sum - input[li]);
    output[oi] = sum / count;
    li += stride;
    ri += stride;
    oi += stride;
  }
  for (let i = 0; i < phase4; i++) {
    sum = f(sum - input[li]);
    count--;
    output[oi] = sum / count;
    li += stride;
    oi += stride;
  }
}

let scratchA = new Float32Array(0);
let scratchB = new Float32Array(0);

function scratch(n: number): [Float32Array, Float32Array] {
  if (scratchA.length < n) {
    scratchA = new Float32Array(n);
    scratchB = new Float32Array(n);
  }
  return [scratchA, scratchB];
}

function cellCentre(cell: number, inDim: number): number {
  return Math.floor(((cell + 0.5) * inDim) / 64);
}

function cellCentres(inDim: number): Int32Array {
  const out = new Int32Array(64);
  for (let i = 0; i < 64; i++) out[i] = cellCentre(i, inDim);
  return out;
}

/**
 * Blur (two Jarosz passes: rows, columns, rows, columns) and take one sample at each of the 64x64 cell
 * centres. The last column pass only runs down the 64 sampled columns: each column's running sum is
 * independent of the others, so the sampled values are the same bits as a full pass would give.
 */
function blurAndDecimate(luma: Float32Array, width: number, height: number, out: Float32Array): void {
  const n = width * height;
  const [buf1, buf2] = scratch(n);
  buf1.set(luma.subarray(0, n));
  const rowWindow = jaroszWindowSize(width);
  const colWindow = jaroszWindowSize(height);
  const sampleCols = cellCentres(width);
  for (let pass = 0; pass < JAROSZ_PASSES; pass++) {
    const last = pass === JAROSZ_PASSES - 1;
    for (let row = 0; row < height; row++) box1D(buf1, buf2, row * width, width, 1, rowWindow);
    if (last) {
      for (let j = 0; j < 64; j++) box1D(buf2, buf1, sampleCols[j], height, width, colWindow);
    } else {
      for (let col = 0; col < width; col++) box1D(buf2, buf1, col, height, width, colWindow);
    }
  }
  const sampleRows = cellCentres(height);
  for (let i = 0; i < 64; i++) {
    const rowOffset = sampleRows[i] * width;
    for (let j = 0; j < 64; j++) out[i * 64 + j] = buf1[rowOffset + sampleCols[j]];
  }
}

export type PdqBackend = 'wasm' | 'js';
let backend: PdqBackend = process.env.KAITIAKI_PDQ_BACKEND === 'js' ? 'js' : 'wasm';

/**
 * Which implementation hashes pixels: 'wasm' (SIMD WebAssembly, the default when the compiled module is
 * present) or 'js' (the plain TypeScript reference). Both give the same bits; tests compare them.
 */
export function usePdqBackend(choice: PdqBackend): void {
  backend = choice;
}

export function pdqBackend(): PdqBackend {
  return backend === 'wasm' && wasmAvailable(DCT_MATRIX) ? 'wasm' : 'js';
}

/** The 64x64 grid straight from pixels: in WebAssembly when it is there, else luma + blur in TypeScript. */
function gridFromPixels(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  skip64Shortcut: boolean,
): Float32Array {
  const shortcut = width === 64 && height === 64 && !skip64Shortcut;
  if (!shortcut && pdqBackend() === 'wasm') {
    const grid = new Float32Array(4096);
    const windows = { alongRows: jaroszWindowSize(width), alongCols: jaroszWindowSize(height) };
    wasmGrid64(
      DCT_MATRIX,
      pixels,
      width,
      height,
      channels,
      windows,
      cellCentres(height),
      cellCentres(width),
      grid,
    );
    return grid;
  }
  return toGrid64(lumaFromPixels(pixels, width, height, channels), width, height, skip64Shortcut);
}

/** Sum of truncated neighbour gradients on the 64x64 grid, /90, capped at 100. */
export function qualityOf64x64(buffer: Float32Array): number {
  let gradientSum = 0;
  for (let i = 0; i < 63; i++) {
    for (let j = 0; j < 64; j++) {
      const u = buffer[i * 64 + j];
      const v = buffer[(i + 1) * 64 + j];
      gradientSum += Math.abs(Math.trunc(f(f(f(u - v) * 100) / 255)));
    }
  }
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 63; j++) {
      const u = buffer[i * 64 + j];
      const v = buffer[i * 64 + j + 1];
      gradientSum += Math.abs(Math.trunc(f(f(f(u - v) * 100) / 255)));
    }
  }
  return Math.min(100, Math.floor(gradientSum / 90));
}

/** B = D A D^T: 64x64 -> 16x16, accumulating in float32 with k in order. */
function dct64To16(a: Float32Array, out: Float32Array): void {
  if (backend === 'wasm' && wasmDct(DCT_MATRIX, a, out)) return;
  const t = new Float32Array(16 * 64);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) {
      let sum = 0;
      for (let k = 0; k < 64; k++) sum = f(sum + f(DCT_MATRIX[i * 64 + k] * a[k * 64 + j]));
      t[i * 64 + j] = sum;
    }
  }
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      let sum = 0;
      for (let k = 0; k < 64; k++) sum = f(sum + f(t[i * 64 + k] * DCT_MATRIX[j * 64 + k]));
      out[i * 16 + j] = sum;
    }
  }
}

/** Bit k is set when value k is strictly greater than the lower median (the 128th smallest of 256). */
function thresholdToHex(dct: Float32Array): string {
  const sorted = Float32Array.from(dct).sort();
  const median = sorted[127];
  return pdqWordsToHex(packBits((k) => dct[k] > median));
}

function tinyImage(width: number, height: number): boolean {
  return width < PDQ_MIN_HASHABLE_DIM || height < PDQ_MIN_HASHABLE_DIM;
}

const ZERO_HASH = '0'.repeat(64);

/**
 * The 64x64 buffer the DCT runs on. An input of exactly 64x64 is used as it is (the reference's shortcut
 * for video frames already scaled down); `skip64Shortcut` turns that off, as the dihedral path does.
 */
function toGrid64(luma: Float32Array, width: number, height: number, skip64Shortcut: boolean): Float32Array {
  const grid = new Float32Array(64 * 64);
  if (width === 64 && height === 64 && !skip64Shortcut) grid.set(luma.subarray(0, 4096));
  else blurAndDecimate(luma, width, height, grid);
  return grid;
}

function hashGrid(grid: Float32Array): PdqHash {
  const quality = qualityOf64x64(grid);
  const dct = new Float32Array(256);
  dct64To16(grid, dct);
  return { hash: thresholdToHex(dct), quality };
}

export function pdqFromLuma(luma: Float32Array, width: number, height: number): PdqHash {
  if (tinyImage(width, height)) return { hash: ZERO_HASH, quality: 0 };
  return hashGrid(toGrid64(luma, width, height, false));
}

/** PDQ of interleaved 8-bit pixels (1 to 4 channels; alpha ignored). */
export function pdqFromPixels(pixels: Uint8Array, width: number, height: number, channels: number): PdqHash {
  if (tinyImage(width, height)) return { hash: ZERO_HASH, quality: 0 };
  return hashGrid(gridFromPixels(pixels, width, height, channels, false));
}

/** Sign and layout of each dihedral variant, derived from the original DCT (pdqhashing.cpp:440-530). */
const DIHEDRAL_RULES: Record<
  DihedralName,
  { transpose: boolean; negate: (i: number, j: number) => boolean }
> = {
  original: { transpose: false, negate: () => false },
  rotate90: { transpose: true, negate: (_i, j) => (j & 1) === 0 },
  rotate180: { transpose: false, negate: (i, j) => ((i + j) & 1) === 1 },
  rotate270: { transpose: true, negate: (i) => (i & 1) === 0 },
  flipx: { transpose: false, negate: (i) => (i & 1) === 0 },
  flipy: { transpose: false, negate: (_i, j) => (j & 1) === 0 },
  flipplus1: { transpose: true, negate: () => false },
  flipminus1: { transpose: true, negate: (i, j) => ((i + j) & 1) === 1 },
};

function dihedralOfGrid(grid: Float32Array): PdqDihedral {
  const quality = qualityOf64x64(grid);
  const dct = new Float32Array(256);
  dct64To16(grid, dct);
  const variants = {} as Record<DihedralName, string>;
  const variant = new Float32Array(256);
  for (const name of DIHEDRAL_NAMES) {
    const rule = DIHEDRAL_RULES[name];
    for (let i = 0; i < 16; i++) {
      for (let j = 0; j < 16; j++) {
        const value = rule.negate(i, j) ? -dct[i * 16 + j] : dct[i * 16 + j];
        variant[rule.transpose ? j * 16 + i : i * 16 + j] = value;
      }
    }
    variants[name] = thresholdToHex(variant);
  }
  return { hash: variants.original, quality, variants };
}

function zeroDihedral(): PdqDihedral {
  const variants = {} as Record<DihedralName, string>;
  for (const name of DIHEDRAL_NAMES) variants[name] = ZERO_HASH;
  return { hash: ZERO_HASH, quality: 0, variants };
}

/**
 * The hash of all 8 rotations and flips, computed from one DCT without re-hashing pixels. Like the
 * reference's dihedral function, this never takes the 64x64 shortcut.
 */
export function pdqDihedralFromLuma(luma: Float32Array, width: number, height: number): PdqDihedral {
  if (tinyImage(width, height)) return zeroDihedral();
  return dihedralOfGrid(toGrid64(luma, width, height, true));
}

export function pdqDihedralFromPixels(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
): PdqDihedral {
  if (tinyImage(width, height)) return zeroDihedral();
  return dihedralOfGrid(gridFromPixels(pixels, width, height, channels, true));
}
