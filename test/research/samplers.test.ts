/**
 * Statistical checks of the exact samplers against their theoretical distributions. Each statistic is compared
 * with its theoretical value within 5 standard errors (a false alarm has probability below 1e-6 per check). The
 * seeded runs are reproducible; the cryptographic runs check the source DP noise actually uses.
 */
import { describe, expect, it } from 'vitest';
import { CryptoRandom, SeededRandom, type RandomSource } from '../../src/research/dp/random.js';
import {
  rationalToNumber,
  roundUpRational,
  sampleDiscreteGaussian,
  sampleDiscreteLaplace,
} from '../../src/research/dp/samplers.js';

/** Theoretical moments and tail of a distribution on the integers given by unnormalised weights w(|k|). */
function theory(weight: (k: number) => number, range: number) {
  let z = 0;
  let m2 = 0;
  let m4 = 0;
  for (let k = -range; k <= range; k++) {
    const w = weight(Math.abs(k));
    z += w;
    m2 += w * k * k;
    m4 += w * k ** 4;
  }
  const tail = (t: number) => {
    let s = 0;
    for (let k = t; k <= range; k++) s += 2 * weight(k);
    return s / z;
  };
  return { variance: m2 / z, fourth: m4 / z, tail, p0: weight(0) / z };
}

function check(draw: () => bigint, n: number, th: ReturnType<typeof theory>, tailAt: number[]) {
  let sum = 0;
  let sum2 = 0;
  let zeros = 0;
  const tails = tailAt.map(() => 0);
  for (let i = 0; i < n; i++) {
    const x = Number(draw());
    sum += x;
    sum2 += x * x;
    if (x === 0) zeros++;
    for (let j = 0; j < tailAt.length; j++) if (Math.abs(x) >= tailAt[j]) tails[j]++;
  }
  const mean = sum / n;
  const variance = sum2 / n;
  expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(th.variance / n));
  expect(Math.abs(variance - th.variance)).toBeLessThan(5 * Math.sqrt((th.fourth - th.variance ** 2) / n));
  expect(Math.abs(zeros / n - th.p0)).toBeLessThan(5 * Math.sqrt((th.p0 * (1 - th.p0)) / n) + 1e-9);
  tailAt.forEach((t, j) => {
    const p = th.tail(t);
    expect(Math.abs(tails[j] / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n) + 1e-9);
  });
}

const laplaceTheory = (b: number) => theory((k) => Math.exp(-k / b), Math.ceil(60 * b) + 10);
const gaussianTheory = (s: number) => theory((k) => Math.exp(-(k * k) / (2 * s * s)), Math.ceil(40 * s) + 10);

describe('discrete Laplace (CKS20)', () => {
  it('10^6 seeded draws at scale 10: mean, variance, P[0] and tails match theory', () => {
    const rng = new SeededRandom(20261203);
    const scale = roundUpRational(10);
    check(() => sampleDiscreteLaplace(scale, rng), 1_000_000, laplaceTheory(10), [10, 30, 60]);
  });
  it('10^6 cryptographic draws at scale 3.7', () => {
    const rng: RandomSource = new CryptoRandom();
    const scale = roundUpRational(3.7);
    check(
      () => sampleDiscreteLaplace(scale, rng),
      1_000_000,
      laplaceTheory(rationalToNumber(scale)),
      [4, 15, 30],
    );
  });
  it('small and large scales (2·10^5 draws each)', () => {
    const rng = new SeededRandom(7);
    for (const b of [0.4, 250]) {
      const scale = roundUpRational(b);
      check(() => sampleDiscreteLaplace(scale, rng), 200_000, laplaceTheory(rationalToNumber(scale)), [
        1,
        Math.ceil(3 * b),
      ]);
    }
  });
});

describe('discrete Gaussian (CKS20)', () => {
  it('10^6 seeded draws at σ = 10: mean, variance, P[0] and tails match theory', () => {
    const rng = new SeededRandom(42);
    const sigma = roundUpRational(10);
    check(() => sampleDiscreteGaussian(sigma, rng), 1_000_000, gaussianTheory(10), [10, 20, 35]);
  });
  it('3·10^5 cryptographic draws at σ = 2.5 and σ = 0.6', () => {
    const rng = new CryptoRandom();
    for (const s of [2.5, 0.6]) {
      const sigma = roundUpRational(s);
      check(
        () => sampleDiscreteGaussian(sigma, rng),
        300_000,
        gaussianTheory(rationalToNumber(sigma)),
        [1, 3, 6],
      );
    }
  });
});

describe('scales', () => {
  it('are rounded up to multiples of 2^-20, never down', () => {
    for (const x of [1e-3, 0.1, 1 / 3, Math.PI, 12345.678]) {
      const r = roundUpRational(x);
      expect(r.den).toBe(1n << 20n);
      expect(rationalToNumber(r)).toBeGreaterThanOrEqual(x);
      expect(rationalToNumber(r) - x).toBeLessThan(2 ** -20 + 1e-12);
    }
    expect(() => roundUpRational(0)).toThrow(RangeError);
    expect(() => roundUpRational(Number.NaN)).toThrow(RangeError);
  });
});
