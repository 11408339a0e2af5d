/**
 * The government (competent authority) report: TCO Art. 8(1) and the composition in the reference notes (B5):
 * orders issued, cross-border share, scrutiny and outcomes, implementation and speed per platform, referrals and
 * acceptance rates, use of non-disclosure.
 */
import type { Db } from '../store/database.js';
import { TransparencyStore, type Period } from '../store/transparency.js';
import { distribution, increment, seconds, share, type Distribution } from './stats.js';

export interface GovernmentReport {
  report: 'government';
  schema_version: 1;
  organisation: { id: number; name: string };
  period: Period;
  generated_at: string;
  methodology: string[];
  removal_orders: {
    issued: number;
    items: number;
    cross_border: number;
    cross_border_share: number | null;
    scrutinised: number;
    scrutiny_outcomes: Record<string, number>;
    actioned: number;
    not_executed: number;
    not_executed_by_ground: Record<string, number>;
    pending: number;
    withdrawn: number;
    reinstated: number;
    within_one_hour: number;
    within_one_hour_share: number | null;
    time_to_action_seconds: Distribution;
    by_content_type: Record<string, number>;
    by_platform: {
      platform_org_id: number;
      platform: string;
      issued: number;
      actioned: number;
      within_one_hour: number;
      not_executed: number;
      median_seconds: number | null;
    }[];
  };
  referrals: {
    sent: number;
    by_outcome: Record<string, number>;
    acceptance_rate: number | null;
    by_platform: {
      platform_org_id: number;
      platform: string;
      sent: number;
      actioned: number;
      partial: number;
      declined: number;
      pending: number;
      acceptance_rate: number | null;
    }[];
    basis_used: Record<string, number>;
  };
  non_disclosure: { orders: number; extended: number; mean_days: number | null };
  not_recorded: string[];
}

export const GOVERNMENT_METHODOLOGY = [
  'Orders and referrals count when the platform received them, in [from, to). Items are content items named in the orders.',
  'Within one hour = the platform confirmed removal or disabling (Annex II) before the deadline (one hour after receipt, or after a restart under Art. 3(7)/(8)).',
  'Acceptance rate = (actioned + partial) / referrals with an outcome.',
];

export async function governmentReport(
  db: Db,
  org: { id: number; name: string },
  period: Period,
  now = new Date(),
): Promise<GovernmentReport> {
  const store = new TransparencyStore(db);
  const orders = await store.orders('authority_org_id', org.id, period);
  const referrals = await store.referrals('authority_org_id', org.id, period);
  const names = await store.organisationNames([
    ...new Set([...orders, ...referrals].map((o) => o.platform_org_id)),
  ]);
  const ro = {
    issued: orders.length,
    items: 0,
    cross_border: 0,
    scrutinised: 0,
    scrutiny_outcomes: {} as Record<string, number>,
    actioned: 0,
    not_executed: 0,
    not_executed_by_ground: {} as Record<string, number>,
    pending: 0,
    withdrawn: 0,
    reinstated: 0,
    within_one_hour: 0,
    by_content_type: {} as Record<string, number>,
  };
  const times: number[] = [];
  const perPlatform = new Map<
    number,
    { issued: number; actioned: number; within: number; notExecuted: number; times: number[] }
  >();
  const nd = { orders: 0, extended: 0, days: [] as number[] };
  for (const o of orders) {
    const p = perPlatform.get(o.platform_org_id) ?? {
      issued: 0,
      actioned: 0,
      within: 0,
      notExecuted: 0,
      times: [],
    };
    perPlatform.set(o.platform_org_id, p);
    p.issued++;
    ro.items += o.item_count;
    if (o.cross_border === 1) ro.cross_border++;
    if (o.scrutiny_requested_by) ro.scrutinised++;
    if (o.scrutiny_outcome) increment(ro.scrutiny_outcomes, o.scrutiny_outcome);
    if (o.status === 'withdrawn') ro.withdrawn++;
    if (o.reinstated_at) ro.reinstated++;
    for (const letter of JSON.parse(o.content_types) as string[]) increment(ro.by_content_type, letter);
    if (o.actioned_at) {
      ro.actioned++;
      p.actioned++;
      const s = seconds(o.received_at, o.actioned_at);
      times.push(s);
      p.times.push(s);
      if (o.late === 0) {
        ro.within_one_hour++;
        p.within++;
      }
    } else if (o.annex_iii_ground) {
      ro.not_executed++;
      p.notExecuted++;
      increment(ro.not_executed_by_ground, o.annex_iii_ground);
    } else if (o.status === 'open') ro.pending++;
    if (o.non_disclosure_until) {
      nd.orders++;
      if (o.non_disclosure_extended === 1) nd.extended++;
      nd.days.push(
        (new Date(o.non_disclosure_until).getTime() - new Date(o.received_at).getTime()) / 86_400_000,
      );
    }
  }
  const byOutcome: Record<string, number> = { actioned: 0, partial: 0, declined: 0, pending: 0 };
  const basisUsed: Record<string, number> = {};
  const refPlatform = new Map<number, Record<string, number>>();
  for (const r of referrals) {
    increment(byOutcome, r.outcome);
    if (r.basis_used) increment(basisUsed, r.basis_used);
    const p = refPlatform.get(r.platform_org_id) ?? {
      sent: 0,
      actioned: 0,
      partial: 0,
      declined: 0,
      pending: 0,
    };
    refPlatform.set(r.platform_org_id, p);
    p.sent++;
    increment(p, r.outcome);
  }
  const accept = (o: Record<string, number>) =>
    share(o.actioned + o.partial, o.actioned + o.partial + o.declined);
  const name = (id: number) => names.get(id) ?? String(id);
  return {
    report: 'government',
    schema_version: 1,
    organisation: org,
    period,
    generated_at: now.toISOString(),
    methodology: GOVERNMENT_METHODOLOGY,
    removal_orders: {
      ...ro,
      cross_border_share: share(ro.cross_border, ro.issued),
      within_one_hour_share: share(ro.within_one_hour, ro.actioned),
      time_to_action_seconds: distribution(times),
      by_platform: [...perPlatform.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([id, p]) => ({
          platform_org_id: id,
          platform: name(id),
          issued: p.issued,
          actioned: p.actioned,
          within_one_hour: p.within,
          not_executed: p.notExecuted,
          median_seconds: distribution(p.times).p50,
        })),
    },
    referrals: {
      sent: referrals.length,
      by_outcome: byOutcome,
      acceptance_rate: accept(byOutcome),
      by_platform: [...refPlatform.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([id, p]) => ({
          platform_org_id: id,
          platform: name(id),
          sent: p.sent,
          actioned: p.actioned,
          partial: p.partial,
          declined: p.declined,
          pending: p.pending,
          acceptance_rate: accept(p),
        })),
      basis_used: basisUsed,
    },
    non_disclosure: {
      orders: nd.orders,
      extended: nd.extended,
      mean_days:
        nd.days.length === 0
          ? null
          : Math.round((nd.days.reduce((a, b) => a + b, 0) / nd.days.length) * 100) / 100,
    },
    not_recorded: [
      'Art. 8(1)(b) specific-measures decisions',
      'Art. 8(1)(c) administrative or judicial review other than Art. 4 scrutiny',
      'Art. 8(1)(d) penalties',
      'Art. 6 access requests to preserved content',
    ],
  };
}
