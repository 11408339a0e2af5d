/** The hub report: aggregates across the organisations a hub shares banks with, and the error rates of its banks. */
import type { Db } from '../store/database.js';
import { TransparencyStore, type Period } from '../store/transparency.js';
import { clipToPeriod, NO_CRISIS_PERIODS, type CrisisPeriodSource } from './crisis-periods.js';
import { share } from './stats.js';

export interface HubReport {
  report: 'hub';
  schema_version: 1;
  organisation: { id: number; name: string };
  period: Period;
  generated_at: string;
  methodology: string[];
  members: number;
  decisions: number;
  actioned: number;
  automated_share: number | null;
  removal_orders: { received: number; actioned: number; within_one_hour: number };
  appeals: { filed: number; reversed: number };
  banks: { bank_id: number; name: string; reversals: number }[];
  /** Crisis activations overlapping the period (cut to it), with the members' decisions within each. */
  crisis_activations: {
    id: string;
    name: string;
    from: string;
    to: string;
    decisions: number;
    actioned: number;
  }[];
  not_recorded: string[];
}

export async function hubReport(
  db: Db,
  org: { id: number; name: string },
  period: Period,
  now = new Date(),
  crisis: CrisisPeriodSource = NO_CRISIS_PERIODS,
): Promise<HubReport> {
  const store = new TransparencyStore(db);
  const members = await store.hubMembers(org.id);
  const counts = await store.decisionCounts(members, period);
  const orders = await store.ordersFor(members, period);
  const appeals = await store.appeals(members, period);
  const reversals = await store.bankReversals({ bankOrgId: org.id }, period);
  const perBank = new Map<number, Set<string>>();
  for (const r of reversals) {
    const set = perBank.get(r.bank_id) ?? new Set<string>();
    set.add(`${r.org_id}:${r.appeal_id}`);
    perBank.set(r.bank_id, set);
  }
  const banks = await store.banks([...perBank.keys()]);
  const activations: HubReport['crisis_activations'] = [];
  for (const c of await crisis.periods(org.id, period.from, period.to)) {
    const within = clipToPeriod(c, period, now);
    if (!within) continue;
    const during = await store.decisionCounts(members, within);
    activations.push({
      id: c.id,
      name: c.name,
      ...within,
      decisions: during.decisions,
      actioned: during.actioned,
    });
  }
  return {
    report: 'hub',
    schema_version: 1,
    organisation: org,
    period,
    generated_at: now.toISOString(),
    methodology: [
      'Members = organisations the hub shares at least one bank with. Figures are sums over members in [from, to).',
      'Bank reversals = appeals reversed by any organisation where the hub bank supplied the evidence.',
    ],
    members: members.length,
    decisions: counts.decisions,
    actioned: counts.actioned,
    automated_share: share(counts.automated, counts.actioned),
    removal_orders: {
      received: orders.length,
      actioned: orders.filter((o) => o.actioned_at !== null).length,
      within_one_hour: orders.filter((o) => o.actioned_at !== null && o.late === 0).length,
    },
    appeals: { filed: appeals.length, reversed: appeals.filter((a) => a.status === 'reversed').length },
    banks: banks
      .sort((a, b) => a.id - b.id)
      .map((b) => ({ bank_id: b.id, name: b.name, reversals: perBank.get(b.id)?.size ?? 0 })),
    crisis_activations: activations,
    not_recorded: [
      ...(crisis === NO_CRISIS_PERIODS ? ['crisis activations'] : []),
      'hash disputes between members',
    ],
  };
}
