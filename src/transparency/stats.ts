/** Small statistics shared by the reports. Percentiles use the nearest-rank method (no interpolation). */
import { ValidationError } from '../core/errors.js';
import { percentile } from '../core/stats.js';
import type { Period } from '../store/transparency.js';

export interface Distribution {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export function distribution(values: number[]): Distribution {
  const sorted = Float64Array.from(values).sort();
  const list = Array.from(sorted);
  return {
    count: list.length,
    p50: percentile(list, 50),
    p90: percentile(list, 90),
    p99: percentile(list, 99),
  };
}

/** The same nearest-rank percentiles from a histogram of (value, count), ascending by value. */
export function histogramDistribution(histogram: { seconds: number; n: number }[]): Distribution {
  const count = histogram.reduce((sum, h) => sum + h.n, 0);
  const at = (p: number) => {
    if (count === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * count));
    let seen = 0;
    for (const h of histogram) {
      seen += h.n;
      if (seen >= rank) return h.seconds;
    }
    return histogram[histogram.length - 1].seconds;
  };
  return { count, p50: at(50), p90: at(90), p99: at(99) };
}

/** A share rounded to four decimals; null when there is nothing to divide by. */
export function share(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000;
}

export function seconds(fromIso: string, toIso: string): number {
  return Math.round((new Date(toIso).getTime() - new Date(fromIso).getTime()) / 1000);
}

export function increment(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

/** A reporting period from `from` (inclusive) to `to` (exclusive): dates (YYYY-MM-DD) or ISO instants. */
export function parsePeriod(from: string, to: string): Period {
  const parse = (value: string, name: string) => {
    const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00.000Z` : value);
    if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime()))
      throw new ValidationError(
        `--${name} must be a date (YYYY-MM-DD) or an ISO instant, got "${value}"`,
        'KAI_ERR_PERIOD',
      );
    return date;
  };
  const start = parse(from, 'from');
  const end = parse(to, 'to');
  if (end <= start) throw new ValidationError('the period must end after it starts', 'KAI_ERR_PERIOD');
  if (end.getTime() - start.getTime() > 5 * 366 * 86_400_000)
    throw new ValidationError('a report covers at most five years', 'KAI_ERR_PERIOD');
  return { from: start.toISOString(), to: end.toISOString() };
}
