/**
 * Runs the heavy part of PDQ (luma, the four Jarosz box passes, the DCT) in WebAssembly with SIMD; the
 * module is compiled from assembly/pdq-core.ts by `npm run build:wasm`. Bit-exact with the TypeScript path in
 * pdq.ts, which stays as the reference and the fallback when the module is missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface PdqCoreExports {
  memory: WebAssembly.Memory;
  lumaTransposed(
    pixels: number,
    width: number,
    height: number,
    channels: number,
    out: number,
    outStride: number,
  ): void;
  boxColumns(
    input: number,
    inStride: number,
    output: number,
    outStride: number,
    rows: number,
    cols: number,
    window: number,
    transposeOut: number,
  ): void;
  gatherRowsTransposed(input: number, inStride: number, cols: number, rowIndex: number, output: number): void;
  dct64To16(a: number, d: number, dT: number, t: number, out: number): void;
}

// Fixed regions at the start of memory (bytes), then pixels and two float work buffers.
const D_OFFSET = 0; // 16x64 f32
const DT_OFFSET = 4096; // 64x16 f32
const T_OFFSET = 8192; // 16x64 f32
const DCT_OFFSET = 12288; // 16x16 f32
const ROW_INDEX_OFFSET = 13312; // 64 i32
const GRID_OFFSET = 13568; // 64x64 f32
const DYNAMIC_OFFSET = GRID_OFFSET + 16384;
const PAGE = 65536;
const RETAINED_MEMORY_LIMIT = 256 * 1024 * 1024;

/** Where the compiled module may be: beside dist/src (running compiled) or in dist (running from sources). */
function findWasm(): string | undefined {
  const candidates = ['../../../wasm/pdq-core.wasm', '../../../dist/wasm/pdq-core.wasm'];
  return candidates
    .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
    .find((path) => existsSync(path));
}

let core: PdqCoreExports | null | undefined;

function loadCore(dctMatrix: Float32Array): PdqCoreExports | null {
  if (core !== undefined) return core;
  const path = findWasm();
  if (!path) return (core = null);
  const module = new WebAssembly.Module(readFileSync(path));
  const instance = new WebAssembly.Instance(module, {});
  core = instance.exports as unknown as PdqCoreExports;
  const floats = new Float32Array(core.memory.buffer);
  floats.set(dctMatrix, D_OFFSET / 4);
  for (let k = 0; k < 64; k++)
    for (let j = 0; j < 16; j++) floats[DT_OFFSET / 4 + k * 16 + j] = dctMatrix[j * 64 + k];
  return core;
}

export function wasmAvailable(dctMatrix: Float32Array): boolean {
  return loadCore(dctMatrix) !== null;
}

function ensureMemory(exports: PdqCoreExports, bytes: number): void {
  const missing = bytes - exports.memory.buffer.byteLength;
  if (missing > 0) exports.memory.grow(Math.ceil(missing / PAGE));
}

const align16 = (n: number) => (n + 15) & ~15;

/**
 * Row stride (in floats) for a matrix with `n` columns: rounded up to a multiple of 4 for SIMD, plus 4 when
 * that is a multiple of 64, so that walking down a column does not hit the same cache set at every step.
 */
function paddedStride(n: number): number {
  const rounded = (n + 3) & ~3;
  return rounded % 64 === 0 ? rounded + 4 : rounded;
}

/**
 * Blurs and decimates interleaved 8-bit pixels to the 64x64 grid (written to `grid`), the same bits as
 * pdq.ts's blurAndDecimate. Returns false when the WebAssembly module is not available.
 */
export function wasmGrid64(
  dctMatrix: Float32Array,
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  windows: { alongRows: number; alongCols: number },
  sampleRows: Int32Array,
  sampleCols: Int32Array,
  grid: Float32Array,
): boolean {
  const exports = loadCore(dctMatrix);
  if (!exports) return false;
  const wStride = paddedStride(width); // row stride of height x width matrices
  const hStride = paddedStride(height); // row stride of width x height (transposed) matrices
  const bufferFloats = Math.max(height * wStride, width * hStride, height * 64);
  const pixelsOffset = DYNAMIC_OFFSET;
  const buf1 = align16(pixelsOffset + pixels.length);
  const buf2 = align16(buf1 + bufferFloats * 4);
  ensureMemory(exports, buf2 + bufferFloats * 4);
  new Uint8Array(exports.memory.buffer, pixelsOffset, pixels.length).set(pixels);
  // Luma transposed (width x height); every box pass runs down columns and hands its output on transposed.
  exports.lumaTransposed(pixelsOffset, width, height, channels, buf1, hStride);
  exports.boxColumns(buf1, hStride, buf2, wStride, width, height, windows.alongRows, 1); // rows pass 1
  exports.boxColumns(buf2, wStride, buf1, hStride, height, width, windows.alongCols, 1); // columns pass 1
  exports.boxColumns(buf1, hStride, buf2, hStride, width, height, windows.alongRows, 0); // rows pass 2
  // Only the 64 sampled image columns go through the last columns pass.
  new Int32Array(exports.memory.buffer, ROW_INDEX_OFFSET, 64).set(sampleCols);
  exports.gatherRowsTransposed(buf2, hStride, height, ROW_INDEX_OFFSET, buf1); // height x 64
  exports.boxColumns(buf1, 64, buf2, 64, height, 64, windows.alongCols, 0);
  const blurred = new Float32Array(exports.memory.buffer, buf2, height * 64);
  for (let i = 0; i < 64; i++)
    grid.set(blurred.subarray(sampleRows[i] * 64, sampleRows[i] * 64 + 64), i * 64);
  // WebAssembly memory never shrinks: after a very large image, let the instance go and start afresh next time.
  if (exports.memory.buffer.byteLength > RETAINED_MEMORY_LIMIT) core = undefined;
  return true;
}

/** The 16x16 DCT of a 64x64 grid in WebAssembly; false when the module is not available. */
export function wasmDct(dctMatrix: Float32Array, grid: Float32Array, out: Float32Array): boolean {
  const exports = loadCore(dctMatrix);
  if (!exports) return false;
  new Float32Array(exports.memory.buffer, GRID_OFFSET, 4096).set(grid);
  exports.dct64To16(GRID_OFFSET, D_OFFSET, DT_OFFSET, T_OFFSET, DCT_OFFSET);
  out.set(new Float32Array(exports.memory.buffer, DCT_OFFSET, 256));
  return true;
}
