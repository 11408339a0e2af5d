/**
 * Privacy accounting in zero-concentrated DP (Bun and Steinke 2016): mechanism maps, composition and the tight
 * conversion to (ε, δ)-DP (Canonne, Kamath, Steinke 2020), following OpenDP's cdp_epsilon / cdp_delta.
 */

function assertNonNegativeFinite(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`${name} must be a finite number ≥ 0, got ${value}`);
}

/** Laplace with L1 sensitivity Δ and scale b is (Δ/b)-DP. */
export function laplaceEpsilon(sensitivity: number, scale: number): number {
  assertNonNegativeFinite('sensitivity', sensitivity);
  if (sensitivity === 0) return 0;
  if (scale === 0) return Infinity;
  return sensitivity / scale;
}

/** The Laplace scale giving ε-DP for L1 sensitivity Δ. */
export function laplaceScale(sensitivity: number, epsilon: number): number {
  return sensitivity / epsilon;
}

/** Gaussian with L2 sensitivity Δ and scale σ is ((Δ/σ)²/2)-zCDP. */
export function gaussianRho(sensitivity: number, sigma: number): number {
  assertNonNegativeFinite('sensitivity', sensitivity);
  if (sensitivity === 0) return 0;
  if (sigma === 0) return Infinity;
  return (sensitivity / sigma) ** 2 / 2;
}

/** The Gaussian scale giving ρ-zCDP for L2 sensitivity Δ: σ = Δ/√(2ρ). */
export function gaussianSigma(sensitivity: number, rho: number): number {
  return sensitivity / Math.sqrt(2 * rho);
}

/** ε-DP implies (ε²/2)-zCDP. */
export function pureToZcdp(epsilon: number): number {
  assertNonNegativeFinite('epsilon', epsilon);
  return (epsilon * epsilon) / 2;
}

/** The inverse used by Tumult to show a ρ as an ε: ε = √(2ρ) (a display, not a guarantee). */
export function zcdpToPureDisplay(rho: number): number {
  assertNonNegativeFinite('rho', rho);
  return Math.sqrt(2 * rho);
}

/** zCDP composes by adding ρ (approximate zCDP adds the δ parts as well). */
export function composeZcdp(costs: ReadonlyArray<{ rho: number; delta?: number }>): {
  rho: number;
  delta: number;
} {
  let rho = 0;
  let delta = 0;
  for (const c of costs) {
    assertNonNegativeFinite('rho', c.rho);
    rho += c.rho;
    delta += c.delta ?? 0;
  }
  return { rho, delta };
}

/** The simple bound ε = ρ + 2√(ρ ln(1/δ)) (looser than cdpEpsilon; kept for comparison). */
export function cdpEpsilonSimple(rho: number, delta: number): number {
  return rho + 2 * Math.sqrt(rho * Math.log(1 / delta));
}

/**
 * The smallest ε such that ρ-zCDP implies (ε, δ)-DP: min over α > 1 of
 * αρ + (ln(1/δ) + (α−1)·ln(1−1/α) − ln α)/(α−1). The objective is convex in α; its derivative has the sign of
 * ρ + ln(αδ)/(α−1)², found by bisection.
 */
export function cdpEpsilon(rho: number, delta: number): number {
  assertNonNegativeFinite('rho', rho);
  if (!(delta > 0) || !Number.isFinite(delta)) throw new RangeError(`delta must be > 0, got ${delta}`);
  if (rho === 0 || delta >= 1) return 0;
  if (rho === Infinity) return Infinity;
  const increasing = (alpha: number) => rho > -Math.log(alpha * delta) / (alpha - 1) ** 2;
  let lo = 1.01;
  let hi = 2;
  while (!increasing(hi)) {
    hi *= 2;
    if (!Number.isFinite(hi)) throw new RangeError('cdpEpsilon: no minimum found');
  }
  for (let i = 0; i < 2000; i++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    if (increasing(mid)) hi = mid;
    else lo = mid;
  }
  const alpha = hi;
  const epsilon =
    alpha * rho +
    (Math.log(1 / delta) + (alpha - 1) * Math.log1p(-1 / alpha) - Math.log(alpha)) / (alpha - 1);
  return Math.max(epsilon, 0);
}

/** The smallest δ such that ρ-zCDP implies (ε, δ)-DP (OpenDP cdp_delta). */
export function cdpDelta(rho: number, epsilon: number): number {
  assertNonNegativeFinite('rho', rho);
  assertNonNegativeFinite('epsilon', epsilon);
  if (rho === 0) return 0;
  if (rho === Infinity) return 1;
  // The derivative of the exponent in α is (2α−1)ρ − ε + ln(1−1/α); it is increasing; find its root.
  const derivative = (alpha: number) => (2 * alpha - 1) * rho - epsilon + Math.log1p(-1 / alpha);
  let lo = 1.01;
  let hi = (epsilon + 1) / (2 * rho) + 2;
  for (let i = 0; i < 2000; i++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    if (derivative(mid) < 0) lo = mid;
    else hi = mid;
  }
  const alpha = (lo + hi) / 2;
  const delta =
    Math.exp((alpha - 1) * (alpha * rho - epsilon) + alpha * Math.log1p(-1 / alpha)) / (alpha - 1);
  return Math.min(delta, 1);
}

/**
 * Tumult's partition-selection threshold τ for (ε, δ) when a user may add up to d_in rows to distinct groups:
 * noise is two-sided geometric with scale α = d_in/ε and a group is kept when its noisy count ≥ τ.
 */
export function partitionThreshold(epsilon: number, delta: number, dIn: number): number {
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) throw new RangeError('partition selection needs ε > 0');
  if (!(delta > 0 && delta < 1)) throw new RangeError('partition selection needs 0 < δ < 1');
  if (!Number.isInteger(dIn) || dIn < 1) throw new RangeError('d_in must be a positive integer');
  // With d_in > 1, map to the one-row equivalent first (using the original ε in δ′).
  const epsilon1 = dIn === 1 ? epsilon : epsilon / dIn;
  const delta1 = dIn === 1 ? delta : delta / (dIn * Math.exp(epsilon));
  const alpha = 1 / epsilon1;
  // Inverse CDF of the two-sided geometric at p = 1 − δ′ (> ½): ⌈−α·ln((e^{1/α}+1)(1−p))⌉.
  const inverse = Math.ceil(-alpha * Math.log((Math.exp(1 / alpha) + 1) * delta1));
  return inverse + 2;
}
