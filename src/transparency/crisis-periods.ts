/**
 * The seam to crisis incidents: the company and hub reports ask a CrisisPeriodSource for the crisis periods
 * (protocol activations) that overlap the report's period, and count the decisions taken within each. The
 * crisis-incident work plugs its activations in here; by default there are none, and the reports say so.
 */
export interface CrisisPeriod {
  /** Stable id of the activation (as the crisis-incident record names it). */
  id: string;
  name: string;
  /** Activation instant (ISO 8601). */
  from: string;
  /** Stand-down instant, or null while the crisis is active. */
  to: string | null;
}

export interface CrisisPeriodSource {
  /** Crisis periods of (or joined by) the organisation that overlap [from, to). */
  periods(orgId: number, from: string, to: string): Promise<CrisisPeriod[]>;
}

export const NO_CRISIS_PERIODS: CrisisPeriodSource = { periods: async () => [] };

/** A crisis period cut to the report's period (and to now, while still active); null when they do not overlap. */
export function clipToPeriod(
  crisis: CrisisPeriod,
  period: { from: string; to: string },
  now: Date,
): { from: string; to: string } | null {
  const end = crisis.to ?? now.toISOString();
  const from = new Date(Math.max(Date.parse(crisis.from), Date.parse(period.from))).toISOString();
  const to = new Date(Math.min(Date.parse(end), Date.parse(period.to))).toISOString();
  return from < to ? { from, to } : null;
}
