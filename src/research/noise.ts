/**
 * Adding integer noise to integer statistics, and describing what was added. A statistic is a vector of integers
 * with a sensitivity; noise comes from the exact samplers (discrete Laplace for ε, discrete Gaussian for ρ).
 */
import { gaussianSigma, laplaceScale, pureToZcdp } from './dp/accountant.js';
import { cryptoRandom, type RandomSource } from './dp/random.js';
import {
  rationalToNumber,
  roundUpRational,
  sampleDiscreteGaussian,
  sampleDiscreteLaplace,
} from './dp/samplers.js';

/** The privacy loss a plan asks for: ε for Laplace noise, ρ (zCDP) for Gaussian noise. */
export type Privacy =
  | { mechanism: 'laplace'; epsilon: number; delta?: number }
  | { mechanism: 'gaussian'; rho: number; delta?: number };

/** ρ of a privacy setting (ε-DP implies ε²/2-zCDP). */
export function rhoOf(privacy: Privacy): number {
  return privacy.mechanism === 'gaussian' ? privacy.rho : pureToZcdp(privacy.epsilon);
}

/** ε for mechanisms that are pure-DP (partition selection, report-noisy-max): ε = √(2ρ) keeps the ρ charged. */
export function pureEpsilonOf(privacy: Privacy): number {
  return privacy.mechanism === 'laplace' ? privacy.epsilon : Math.sqrt(2 * privacy.rho);
}

export interface NoiseSummary {
  /** What the noise is added to. */
  statistic: string;
  mechanism: 'discrete_laplace' | 'discrete_gaussian';
  /** Scale in the statistic's own units (b for Laplace, σ for Gaussian). */
  scale: number;
  /** L1 (Laplace) or L2 (Gaussian) sensitivity in the statistic's units. */
  sensitivity: number;
  /** Half-width h such that |noise| ≤ h with probability ≥ 95 %. */
  interval95: number;
  rho: number;
}

/** Smallest integer t with P(|X| > t) ≤ 0.05 for a discrete Laplace of scale b: 2p^(t+1)/(1+p) ≤ 0.05. */
function laplaceHalfWidth(b: number): number {
  const p = Math.exp(-1 / b);
  const t = Math.ceil(Math.log((0.05 * (1 + p)) / 2) / Math.log(p)) - 1;
  return Math.max(0, t);
}

/** Smallest integer t with P(|X| > t) ≤ 0.05 for a discrete Gaussian of scale σ (summed exactly when small). */
function gaussianHalfWidth(sigma: number): number {
  // Beyond σ = 100 the discrete and continuous tails agree to well under one unit.
  if (sigma > 100) return Math.ceil(1.96 * sigma);
  const range = Math.ceil(12 * sigma) + 5;
  let z = 0;
  const weights: number[] = [];
  for (let k = 0; k <= range; k++) {
    const w = Math.exp(-(k * k) / (2 * sigma * sigma));
    weights.push(w);
    z += k === 0 ? w : 2 * w;
  }
  let inside = weights[0];
  for (let t = 0; t <= range; t++) {
    if (t > 0) inside += 2 * weights[t];
    if (inside / z >= 0.95) return t;
  }
  return range;
}

/**
 * One statistic: integer values in `unit`s (e.g. 2^-16 for a fixed-point sum) with an L1 and an L2 sensitivity in
 * those integer units.
 */
export interface Statistic {
  name: string;
  values: number[];
  l1: number;
  l2: number;
  /** Output value = integer × unit. */
  unit: number;
}

/**
 * Adds noise to each value of the statistic for `rho` (Gaussian) or `epsilon` (Laplace); returns the noisy values in
 * output units and the summary.
 */
export function addNoise(
  statistic: Statistic,
  privacy: { mechanism: 'laplace'; epsilon: number } | { mechanism: 'gaussian'; rho: number },
  rng: RandomSource = cryptoRandom(),
): { values: number[]; summary: NoiseSummary } {
  if (privacy.mechanism === 'laplace') {
    const scale = roundUpRational(laplaceScale(statistic.l1, privacy.epsilon));
    const b = rationalToNumber(scale);
    const values = statistic.values.map(
      (v) => (v + Number(sampleDiscreteLaplace(scale, rng))) * statistic.unit,
    );
    return {
      values,
      summary: {
        statistic: statistic.name,
        mechanism: 'discrete_laplace',
        scale: b * statistic.unit,
        sensitivity: statistic.l1 * statistic.unit,
        interval95: laplaceHalfWidth(b) * statistic.unit,
        rho: pureToZcdp(privacy.epsilon),
      },
    };
  }
  const sigma = roundUpRational(gaussianSigma(statistic.l2, privacy.rho));
  const s = rationalToNumber(sigma);
  const values = statistic.values.map(
    (v) => (v + Number(sampleDiscreteGaussian(sigma, rng))) * statistic.unit,
  );
  return {
    values,
    summary: {
      statistic: statistic.name,
      mechanism: 'discrete_gaussian',
      scale: s * statistic.unit,
      sensitivity: statistic.l2 * statistic.unit,
      interval95: gaussianHalfWidth(s) * statistic.unit,
      rho: privacy.rho,
    },
  };
}

/** A share of the plan's budget for one statistic (several statistics split ρ, or ε, by weight). */
export function sharePrivacy(
  privacy: Privacy,
  fraction: number,
): { mechanism: 'laplace'; epsilon: number } | { mechanism: 'gaussian'; rho: number } {
  // zCDP adds ρ; pure DP adds ε. Either way the parts sum to the whole.
  return privacy.mechanism === 'gaussian'
    ? { mechanism: 'gaussian', rho: privacy.rho * fraction }
    : { mechanism: 'laplace', epsilon: privacy.epsilon * fraction };
}
