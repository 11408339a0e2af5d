/**
 * The post-processing half of the built-in metrics: formulas applied to (noisy or exact) counts. Nothing here
 * touches rows, so applying them to DP counts costs no privacy.
 */

/**
 * Amplification of a content class T between a treatment arm A and a control arm B (Huszár et al. 2022):
 * (R_A + 1) / (r·R_B + 1) − 1, where R_X is the number of users of arm X reached by T and r = |U_A|/|U_B| the
 * arm-size ratio (the paper's factor 4). 0 means equal per-capita reach; 1 means twice the reach.
 */
export function amplification(reachA: number, usersA: number, reachB: number, usersB: number): number {
  if (!(usersA > 0) || !(usersB > 0)) return Number.NaN;
  return amplificationWithRatio(reachA, reachB, usersA / usersB);
}

/** Huszár's form with a given group-size ratio: (R_T + 1)/(ratio·R_C + 1) − 1. */
export function amplificationWithRatio(reachTreatment: number, reachControl: number, ratio: number): number {
  return (reachTreatment + 1) / (ratio * reachControl + 1) - 1;
}

/** Counts clamped at 0 and each row divided by its total (a row with no mass stays all zero). */
export function rowNormalise(counts: number[][]): number[][] {
  return counts.map((row) => {
    const clamped = row.map((x) => Math.max(0, x));
    const total = clamped.reduce((a, b) => a + b, 0);
    return clamped.map((x) => (total > 0 ? x / total : 0));
  });
}

function multiply(a: number[][], b: number[][]): number[][] {
  const n = a.length;
  const out = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const x = a[i][k];
      if (x === 0) continue;
      for (let j = 0; j < n; j++) out[i][j] += x * b[k][j];
    }
  return out;
}

/** The chain with `target` made absorbing. */
function absorbing(p: number[][], target: number): number[][] {
  return p.map((row, i) => (i === target ? row.map((_, j) => (j === target ? 1 : 0)) : [...row]));
}

/** P(reach `target` within `steps` steps | start in each state) = (P̃^steps)[a][target]. */
export function kStepExposure(p: number[][], target: number, steps: number): number[] {
  let m = absorbing(p, target);
  let result: number[] = p.map((_, i) => (i === target ? 1 : 0));
  if (steps <= 0) return result;
  // Exponentiation by squaring on the absorbing chain.
  let power: number[][] = Array.from({ length: p.length }, (_, i) => p.map((__, j) => (i === j ? 1 : 0)));
  let e = steps;
  while (e > 0) {
    if (e & 1) power = multiply(power, m);
    m = multiply(m, m);
    e >>= 1;
  }
  result = power.map((row) => row[target]);
  return result;
}

/** Solves A x = b by Gaussian elimination with partial pivoting; null if singular. */
function solve(a: number[][], b: number[]): number[] | null {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    if (Math.abs(m[pivot][col]) < 1e-12) return null;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r][col] / m[col][col];
      if (f === 0) continue;
      for (let c = col; c <= n; c++) m[r][c] -= f * m[col][c];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

/**
 * Expected number of steps to first reach `target` from each state: h_target = 0, h_a = 1 + Σ_b P_ab h_b.
 * Infinity for states from which the target cannot be reached.
 */
export function hittingTimes(p: number[][], target: number): number[] {
  const n = p.length;
  // States that can reach the target at all (reverse reachability).
  const reach = new Array<boolean>(n).fill(false);
  reach[target] = true;
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < n; i++)
      if (!reach[i] && p[i].some((x, j) => x > 0 && reach[j])) {
        reach[i] = true;
        changed = true;
      }
  }
  const states = [...Array(n).keys()].filter((i) => i !== target && reach[i]);
  const index = new Map(states.map((s, i) => [s, i]));
  const a = states.map((i) => states.map((j) => (i === j ? 1 : 0) - p[i][j]));
  const b = states.map(() => 1);
  // A state that can leave to an unreachable state has an infinite expected time.
  const x = solve(a, b);
  return [...Array(n).keys()].map((i) => {
    if (i === target) return 0;
    if (!reach[i] || !x) return Infinity;
    const v = x[index.get(i)!];
    return Number.isFinite(v) && v >= 0 ? v : Infinity;
  });
}

/** The stationary distribution π = πP (power iteration from uniform; the chains here are ergodic). */
export function stationaryDistribution(p: number[][], iterations = 10_000, tolerance = 1e-14): number[] {
  const n = p.length;
  let pi = new Array<number>(n).fill(1 / n);
  for (let it = 0; it < iterations; it++) {
    const next = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) next[j] += pi[i] * p[i][j];
    const total = next.reduce((a, b) => a + b, 0);
    for (let j = 0; j < n; j++) next[j] = total > 0 ? next[j] / total : 1 / n;
    const change = next.reduce((a, x, j) => a + Math.abs(x - pi[j]), 0);
    pi = next;
    if (change < tolerance) break;
  }
  return pi;
}

/** Top-q share: the sum of the ⌈q·n⌉ largest values over the total. */
export function topShare(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => b - a);
  const total = sorted.reduce((a, b) => a + b, 0);
  if (total <= 0 || sorted.length === 0) return Number.NaN;
  const top = Math.ceil(q * sorted.length);
  let s = 0;
  for (let i = 0; i < top; i++) s += sorted[i];
  return s / total;
}

/** Gini coefficient: G = 2·Σ i·x_(i) / (n·Σx) − (n+1)/n over values sorted ascending. */
export function gini(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const total = sorted.reduce((a, b) => a + b, 0);
  if (n === 0 || total <= 0) return Number.NaN;
  let weighted = 0;
  for (let i = 0; i < n; i++) weighted += (i + 1) * sorted[i];
  return (2 * weighted) / (n * total) - (n + 1) / n;
}

/** Log2 bucket of a positive count: bucket b holds [2^b, 2^(b+1)). */
export function logBucket(x: number): number {
  return 31 - Math.clz32(x);
}

/**
 * Top-q share and Gini rebuilt from a histogram of items by log2 exposure bucket (each item in bucket b taken at
 * the bucket's geometric midpoint 2^b·√2, bucket 0 at 1). Noisy bucket counts are clamped at 0 and rounded first.
 */
export function concentrationFromHistogram(
  histogram: readonly number[],
  q: number,
): { topShare: number; gini: number; items: number } {
  const values: number[] = [];
  const counts = histogram.map((c) => Math.max(0, Math.round(c)));
  const n = counts.reduce((a, b) => a + b, 0);
  // Weighted computation without expanding into n values (n can be millions).
  const buckets = counts
    .map((count, b) => ({ count, value: b === 0 ? 1 : 2 ** b * Math.SQRT2 }))
    .filter((x) => x.count > 0);
  if (n === 0) return { topShare: Number.NaN, gini: Number.NaN, items: 0 };
  const total = buckets.reduce((a, x) => a + x.count * x.value, 0);
  // Top-q share: take the largest buckets first.
  let remaining = Math.ceil(q * n);
  let top = 0;
  for (const x of [...buckets].sort((a, b) => b.value - a.value)) {
    const take = Math.min(remaining, x.count);
    top += take * x.value;
    remaining -= take;
    if (remaining === 0) break;
  }
  // Gini over ascending ranks: the items of a bucket occupy ranks r+1..r+count.
  let rank = 0;
  let weighted = 0;
  for (const x of [...buckets].sort((a, b) => a.value - b.value)) {
    const first = rank + 1;
    const last = rank + x.count;
    weighted += (x.value * ((first + last) * x.count)) / 2;
    rank = last;
  }
  values.length = 0;
  return { topShare: top / total, gini: (2 * weighted) / (n * total) - (n + 1) / n, items: n };
}
