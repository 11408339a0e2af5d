/** Percentiles by the nearest-rank method (no interpolation), for reports, drills and benchmarks alike. */

/** Nearest rank: the smallest value with at least p% of the (ascending) values at or below it. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** The same of values in any order. */
export function percentileOf(values: readonly number[], p: number): number | null {
  return percentile(
    [...values].sort((a, b) => a - b),
    p,
  );
}
