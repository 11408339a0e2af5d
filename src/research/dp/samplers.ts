/**
 * Exact samplers for integer noise (Canonne, Kamath, Steinke 2020, "The Discrete Gaussian for Differential
 * Privacy", algorithms 1-3). Every probability is a ratio of integers (BigInt) and every coin is an exact uniform
 * integer from a RandomSource, so there is no floating-point noise and nothing leaks through low-order bits
 * (Mironov 2012). Scales are exact rationals num/den.
 */
import { below, belowSmall, cryptoRandom, type RandomSource } from './random.js';

/** A non-negative rational num/den (den > 0). */
export interface Rational {
  num: bigint;
  den: bigint;
}

const FIXED_BITS = 20n;

/**
 * The smallest multiple of 2^-20 that is ≥ x (x > 0, finite). Noise scales are rounded up to such a rational, so
 * the noise actually added is never smaller than the one the privacy accounting assumed, and the integers stay
 * small (fast coins).
 */
export function roundUpRational(x: number): Rational {
  if (!Number.isFinite(x) || x <= 0)
    throw new RangeError(`a noise scale must be positive and finite, got ${x}`);
  const den = 1n << FIXED_BITS;
  const scaled = x * Number(den);
  let num = BigInt(Math.ceil(scaled));
  // Math.ceil of a product computed in floating point: correct it exactly so num/den ≥ x.
  while (ratToNumberExact(num, den) < x) num += 1n;
  return { num, den };
}

function ratToNumberExact(num: bigint, den: bigint): number {
  return Number(num) / Number(den);
}

export function rationalToNumber(r: Rational): number {
  return Number(r.num) / Number(r.den);
}

const TWO32 = 0x1_0000_0000n;

/** Bernoulli(num/den) for 0 ≤ num ≤ den. */
function bernoulli(rng: RandomSource, num: bigint, den: bigint): boolean {
  if (den <= TWO32) return belowSmall(rng, Number(den)) < Number(num);
  return below(rng, den) < num;
}

/** Bernoulli(exp(-num/den)) for 0 ≤ num/den ≤ 1 (CKS20 algorithm 1, the alternating-series trick). */
function bernoulliExpSmall(rng: RandomSource, num: bigint, den: bigint): boolean {
  let k = 1n;
  while (bernoulli(rng, num, den * k)) k += 1n;
  return (k & 1n) === 1n;
}

/** Bernoulli(exp(-num/den)) for num/den ≥ 0. */
export function bernoulliExp(rng: RandomSource, num: bigint, den: bigint): boolean {
  let n = num;
  while (n > den) {
    if (!bernoulliExpSmall(rng, 1n, 1n)) return false;
    n -= den;
  }
  return bernoulliExpSmall(rng, n, den);
}

/** Geometric: the number of successes of Bernoulli(exp(-num/den)) before the first failure. */
function geometricExpSlow(rng: RandomSource, num: bigint, den: bigint): bigint {
  let k = 0n;
  while (bernoulliExp(rng, num, den)) k += 1n;
  return k;
}

/** Geometric with P[X = k] ∝ exp(-k·s/t) (CKS20 algorithm 2, the fast version). */
function geometricExpFast(rng: RandomSource, s: bigint, t: bigint): bigint {
  if (s === 0n) throw new RangeError('geometric with infinite scale');
  let u: bigint;
  for (;;) {
    u = below(rng, t);
    if (bernoulliExp(rng, u, t)) break;
  }
  const v = geometricExpSlow(rng, 1n, 1n);
  return (u + t * v) / s;
}

/** Discrete Laplace with P[X = x] ∝ exp(-|x|/scale), scale = num/den > 0 (CKS20 algorithm 2). */
export function sampleDiscreteLaplace(scale: Rational, rng: RandomSource = cryptoRandom()): bigint {
  if (scale.num <= 0n || scale.den <= 0n) throw new RangeError('discrete Laplace needs a positive scale');
  for (;;) {
    const negative = (rng.next32() & 1) === 1;
    const magnitude = geometricExpFast(rng, scale.den, scale.num);
    if (negative && magnitude === 0n) continue; // zero would otherwise be drawn twice as often
    return negative ? -magnitude : magnitude;
  }
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (x * x > n) x -= 1n;
  while ((x + 1n) * (x + 1n) <= n) x += 1n;
  return x;
}

/**
 * Discrete Gaussian with P[X = x] ∝ exp(-x²/(2σ²)), σ = num/den > 0 (CKS20 algorithm 3: rejection from a discrete
 * Laplace with scale t = ⌊σ⌋ + 1).
 */
export function sampleDiscreteGaussian(sigma: Rational, rng: RandomSource = cryptoRandom()): bigint {
  if (sigma.num <= 0n || sigma.den <= 0n) throw new RangeError('discrete Gaussian needs a positive sigma');
  // σ² = a/b exactly.
  const a = sigma.num * sigma.num;
  const b = sigma.den * sigma.den;
  const t = isqrt(a / b) + 1n;
  const tScale: Rational = { num: t, den: 1n };
  for (;;) {
    const y = sampleDiscreteLaplace(tScale, rng);
    const absY = y < 0n ? -y : y;
    // accept with probability exp(-(|y| - σ²/t)² / (2σ²)) = exp(-(|y|·b·t - a)² / (2·a·b·t²))
    const c = absY * b * t - a;
    if (bernoulliExp(rng, c * c, 2n * a * b * t * t)) return y;
  }
}
