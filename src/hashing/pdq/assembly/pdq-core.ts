// AssemblyScript: compiled to WebAssembly by `npm run build:wasm` (not by tsc).
//
// The PDQ pipeline from decoded pixels to the 16x16 DCT, bit-exact with the reference C++ (see ../pdq.ts for
// the algorithm notes). WebAssembly's f32 operations are IEEE single precision with no fused multiply-add, so
// doing the reference's operations in the reference's order gives the reference's bits. SIMD lanes are four
// independent single-precision computations: running four columns side by side changes nothing in any one.
//
// Memory is laid out by the JavaScript side (pdq-wasm.ts), which passes offsets in bytes.

/** Luma of interleaved 8-bit pixels, written transposed: out[x * outStride + y]. */
export function lumaTransposed(
  pixels: usize,
  width: i32,
  height: i32,
  channels: i32,
  out: usize,
  outStride: i32,
): void {
  const cr: f32 = <f32>0.299;
  const cg: f32 = <f32>0.587;
  const cb: f32 = <f32>0.114;
  const grey = channels < 3;
  let p = pixels;
  for (let y = 0; y < height; y++) {
    let o = out + ((<usize>y) << 2);
    const step = (<usize>outStride) << 2;
    for (let x = 0; x < width; x++) {
      const r = <f32>load<u8>(p);
      const g: f32 = grey ? r : <f32>load<u8>(p + 1);
      const b: f32 = grey ? r : <f32>load<u8>(p + 2);
      store<f32>(o, cr * r + cg * g + cb * b);
      p += channels;
      o += step;
    }
  }
}

// @inline
function outIndex(row: i32, col: i32, outStride: i32, transposeOut: bool): usize {
  return transposeOut ? (<usize>col * outStride + row) << 2 : (<usize>row * outStride + col) << 2;
}

/**
 * Running-sum box filter down every column of a rows x cols row-major matrix (the reference's box1DFloat with
 * its four phases), four columns per SIMD lane group. The output is written in the same layout, or transposed
 * (out[col * outStride + row]) so that the next pass can again run down columns. Strides are in elements; a
 * stride that is not a multiple of a large power of two keeps the transposed stores out of each other's cache sets.
 */
export function boxColumns(
  input: usize,
  inStride: i32,
  output: usize,
  outStride: i32,
  rows: i32,
  cols: i32,
  window: i32,
  transposeOut: bool,
): void {
  const half = (window + 2) >> 1;
  const phase1 = half - 1;
  const phase2 = window - half + 1;
  const phase3 = rows - window;
  const phase4 = half - 1;
  const rowBytes = (<usize>inStride) << 2;
  let col = 0;
  for (; col + 4 <= cols; col += 4) {
    let ri = input + ((<usize>col) << 2);
    let li = ri;
    let oRow = 0;
    let count = 0;
    let sum = f32x4.splat(0);
    for (let i = 0; i < phase1; i++) {
      sum = f32x4.add(sum, v128.load(ri));
      count++;
      ri += rowBytes;
    }
    for (let i = 0; i < phase2; i++) {
      sum = f32x4.add(sum, v128.load(ri));
      count++;
      storeLanes(output, oRow, col, outStride, transposeOut, f32x4.div(sum, f32x4.splat(<f32>count)));
      ri += rowBytes;
      oRow++;
    }
    const divisor = f32x4.splat(<f32>count);
    for (let i = 0; i < phase3; i++) {
      sum = f32x4.add(sum, v128.load(ri));
      sum = f32x4.sub(sum, v128.load(li));
      storeLanes(output, oRow, col, outStride, transposeOut, f32x4.div(sum, divisor));
      ri += rowBytes;
      li += rowBytes;
      oRow++;
    }
    for (let i = 0; i < phase4; i++) {
      sum = f32x4.sub(sum, v128.load(li));
      count--;
      storeLanes(output, oRow, col, outStride, transposeOut, f32x4.div(sum, f32x4.splat(<f32>count)));
      li += rowBytes;
      oRow++;
    }
  }
  for (; col < cols; col++) boxOneColumn(input, inStride, output, outStride, rows, col, window, transposeOut);
}

// @inline
function storeLanes(output: usize, row: i32, col: i32, outStride: i32, transposeOut: bool, v: v128): void {
  if (transposeOut) {
    const step = (<usize>outStride) << 2;
    const o = output + outIndex(row, col, outStride, true);
    store<f32>(o, f32x4.extract_lane(v, 0));
    store<f32>(o + step, f32x4.extract_lane(v, 1));
    store<f32>(o + 2 * step, f32x4.extract_lane(v, 2));
    store<f32>(o + 3 * step, f32x4.extract_lane(v, 3));
  } else {
    v128.store(output + outIndex(row, col, outStride, false), v);
  }
}

function boxOneColumn(
  input: usize,
  inStride: i32,
  output: usize,
  outStride: i32,
  rows: i32,
  col: i32,
  window: i32,
  transposeOut: bool,
): void {
  const half = (window + 2) >> 1;
  const phase1 = half - 1;
  const phase2 = window - half + 1;
  const phase3 = rows - window;
  const phase4 = half - 1;
  const rowBytes = (<usize>inStride) << 2;
  let ri = input + ((<usize>col) << 2);
  let li = ri;
  let oRow = 0;
  let count = 0;
  let sum: f32 = 0;
  for (let i = 0; i < phase1; i++) {
    sum += load<f32>(ri);
    count++;
    ri += rowBytes;
  }
  for (let i = 0; i < phase2; i++) {
    sum += load<f32>(ri);
    count++;
    store<f32>(output + outIndex(oRow, col, outStride, transposeOut), sum / <f32>count);
    ri += rowBytes;
    oRow++;
  }
  for (let i = 0; i < phase3; i++) {
    sum += load<f32>(ri);
    sum -= load<f32>(li);
    store<f32>(output + outIndex(oRow, col, outStride, transposeOut), sum / <f32>count);
    ri += rowBytes;
    li += rowBytes;
    oRow++;
  }
  for (let i = 0; i < phase4; i++) {
    sum -= load<f32>(li);
    count--;
    store<f32>(output + outIndex(oRow, col, outStride, transposeOut), sum / <f32>count);
    li += rowBytes;
    oRow++;
  }
}

/**
 * Copies the 64 sampled rows (of a rows x cols matrix with row stride inStride) into a cols x 64 matrix: out[c * 64 + j] = in[rowIdx[j]][c].
 * Used to keep only the columns of the image that decimation samples before the last vertical pass.
 */
export function gatherRowsTransposed(
  input: usize,
  inStride: i32,
  cols: i32,
  rowIndex: usize,
  output: usize,
): void {
  for (let j = 0; j < 64; j++) {
    const src = input + ((<usize>load<i32>(rowIndex + ((<usize>j) << 2)) * inStride) << 2);
    let o = output + ((<usize>j) << 2);
    for (let c = 0; c < cols; c++) {
      store<f32>(o, load<f32>(src + ((<usize>c) << 2)));
      o += 256;
    }
  }
}

/** B = D A D^T for the 16x64 matrix D (row-major at `d`) and its transpose (at `dT`), float32 sums over k in order. */
export function dct64To16(a: usize, d: usize, dT: usize, t: usize, out: usize): void {
  // T[i][j] = sum_k D[i][k] * A[k][j], four j at a time.
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j += 4) {
      let sum = f32x4.splat(0);
      for (let k = 0; k < 64; k++) {
        const dik = f32x4.splat(load<f32>(d + ((<usize>(i * 64 + k)) << 2)));
        sum = f32x4.add(sum, f32x4.mul(dik, v128.load(a + ((<usize>(k * 64 + j)) << 2))));
      }
      v128.store(t + ((<usize>(i * 64 + j)) << 2), sum);
    }
  }
  // B[i][j] = sum_k T[i][k] * D[j][k], four j at a time from D^T[k][j].
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j += 4) {
      let sum = f32x4.splat(0);
      for (let k = 0; k < 64; k++) {
        const tik = f32x4.splat(load<f32>(t + ((<usize>(i * 64 + k)) << 2)));
        sum = f32x4.add(sum, f32x4.mul(tik, v128.load(dT + ((<usize>(k * 16 + j)) << 2))));
      }
      v128.store(out + ((<usize>(i * 16 + j)) << 2), sum);
    }
  }
}
