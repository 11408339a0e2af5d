/**
 * The company (platform) transparency report, computed from the record for any period: TCO Art. 7(3) a-g, the
 * DSA quantitative sections (orders, notices, own-initiative moderation, complaints), and the Santa Clara 2.0
 * numbers. The counting rules are in METHODOLOGY and are printed with every report.
 */
import { TransparencyStore, type Period } from '../store/transparency.js';
import type { Db } from '../store/database.js';
import { clipToPeriod, NO_CRISIS_PERIODS, type CrisisPeriodSource } from './crisis-periods.js';
import { catchUpFacts } from './facts.js';
import {
  distribution,
  histogramDistribution,
  increment,
  seconds,
  share,
  type Distribution,
} from './stats.js';

export const DETECTION_SOURCES = [
  'removal_order',
  'referral',
  'alert',
  'trusted_flagger',
  'user_report',
  'shared_bank',
  'own_bank',
  'proactive',
] as const;
export type DetectionSource = (typeof DETECTION_SOURCES)[number];
export const ACTIONED = new Set(['remove', 'restrict', 'label']);

export const METHODOLOGY = [
  'Counts are per decision (one decision on one case), except removal-order items, which are per content item.',
  'A decision is in the period when it was taken in [from, to); orders and referrals when received; appeals when filed.',
  'Actioned = decisions to remove, restrict or label. Automated share = automated actioned decisions / actioned decisions.',
  'Detection source = what opened the case: an upload matching a bank of another organisation (shared_bank) or of the platform itself (own_bank), a removal order, a referral, an alert, a trusted flagger or user report, else proactive.',
  'Time to action = decision time minus case opening time, for actioned decisions; percentiles are nearest-rank.',
  'An order counts as within one hour when its Annex II time is within the deadline (one hour after receipt, or after the clock restarted under Art. 3(7)/(8)).',
  'Per-bank error rate = appeals reversed (in the period) that were caused by the bank / actioned decisions (in the period) with evidence from the bank.',
  'Crisis periods = protocol activations overlapping the period, cut to it; their figures count the decisions taken between activation and stand-down.',
];

export interface CompanyReport {
  report: 'company';
  schema_version: 1;
  organisation: { id: number; name: string };
  period: Period;
  generated_at: string;
  methodology: string[];
  totals: {
    decisions: number;
    actioned: number;
    no_violation: number;
    automated_actioned: number;
    automated_share: number | null;
  };
  actioned_by_detection_source: Record<DetectionSource, number>;
  actioned_by_label: Record<string, number>;
  actioned_by_territory: Record<string, number>;
  actioned_by_format: Record<string, number>;
  actioned_by_restriction: Record<string, number>;
  time_to_action_seconds: Distribution;
  removal_orders: {
    received: number;
    actioned: number;
    items_actioned: number;
    within_one_hour: number;
    within_one_hour_share: number | null;
    late: number;
    pending: number;
    not_executed: number;
    not_executed_by_ground: Record<string, number>;
    by_member_state: Record<string, number>;
    by_content_type: Record<string, number>;
    time_to_action_seconds: Distribution;
    cross_border: number;
    scrutiny_requested: number;
    scrutiny_outcomes: Record<string, number>;
    reinstated: number;
    non_disclosure: number;
  };
  referrals: {
    received: number;
    by_outcome: Record<string, number>;
    by_authority: Record<string, number>;
    acceptance_rate: number | null;
  };
  appeals: {
    filed: number;
    open: number;
    overdue: number;
    upheld: number;
    reversed: number;
    reversal_rate: number | null;
    decision_time_seconds: Distribution;
    automated_detection: { filed: number; upheld: number; reversed: number };
    other_detection: { filed: number; upheld: number; reversed: number };
    by_channel: Record<string, number>;
  };
  banks: {
    bank_id: number;
    name: string;
    owner_org_id: number;
    shared: boolean;
    actioned: number;
    reversed: number;
    error_rate: number | null;
  }[];
  hash_sharing: {
    entries_contributed_own_banks: number;
    entries_contributed_other_banks: number;
    reversals_reported_to_other_banks: number;
  };
  tco_art_7_3: {
    a_measures: string;
    b_reappearance: string;
    c_items_removed_following_orders: number;
    c_orders_not_executed: number;
    c_grounds: Record<string, number>;
    d_complaints: number;
    d_outcomes: { upheld: number; reversed: number; pending: number };
    e_review_proceedings: number;
    e_outcomes: Record<string, number>;
    f_reinstated_required: number;
    g_reinstated_following_complaint: number;
  };
  crisis_periods: {
    /** False while no crisis-incident record is plugged in (the default source has no periods). */
    recorded: boolean;
    periods: CrisisPeriodFigures[];
  };
}

export interface CrisisPeriodFigures {
  id: string;
  name: string;
  /** The part of the crisis inside the report's period. */
  from: string;
  to: string;
  decisions: number;
  actioned: number;
  automated_actioned: number;
}

function zeroSources(): Record<DetectionSource, number> {
  return Object.fromEntries(DETECTION_SOURCES.map((s) => [s, 0])) as Record<DetectionSource, number>;
}

export async function companyReport(
  db: Db,
  org: { id: number; name: string },
  period: Period,
  now = new Date(),
  crisis: CrisisPeriodSource = NO_CRISIS_PERIODS,
): Promise<CompanyReport> {
  const store = new TransparencyStore(db);
  // Decisions taken before facts were kept (or written by other tools) get theirs first.
  await catchUpFacts(db, org.id, period);
  const totals = { decisions: 0, actioned: 0, no_violation: 0, automated_actioned: 0 };
  const bySource = zeroSources();
  const byLabel: Record<string, number> = {};
  const byTerritory: Record<string, number> = {};
  const byFormat: Record<string, number> = {};
  const byRestriction: Record<string, number> = {};
  const bankActioned = new Map<number, number>();

  for (const g of await store.factGroups(org.id, period)) {
    totals.decisions += g.n;
    if (g.decision === 'no-violation') totals.no_violation += g.n;
    if (!ACTIONED.has(g.decision)) continue;
    totals.actioned += g.n;
    if (g.automated === 1) totals.automated_actioned += g.n;
    increment(byRestriction, g.decision, g.n);
    bySource[g.source as DetectionSource] += g.n;
    const labels = JSON.parse(g.labels) as string[];
    if (labels.length === 0) increment(byLabel, 'unlabelled', g.n);
    for (const label of labels) increment(byLabel, label, g.n);
    increment(byTerritory, g.territory, g.n);
    increment(byFormat, g.format, g.n);
    for (const [bankId] of JSON.parse(g.banks) as [number, number][])
      bankActioned.set(bankId, (bankActioned.get(bankId) ?? 0) + g.n);
  }
  const actionTimes = await store.actionSeconds(org.id, period);

  // Removal orders received in the period.
  const orders = await store.orders('platform_org_id', org.id, period);
  const ro = {
    received: orders.length,
    actioned: 0,
    items_actioned: 0,
    within_one_hour: 0,
    late: 0,
    pending: 0,
    not_executed: 0,
    not_executed_by_ground: {} as Record<string, number>,
    by_member_state: {} as Record<string, number>,
    by_content_type: {} as Record<string, number>,
    cross_border: 0,
    scrutiny_requested: 0,
    scrutiny_outcomes: {} as Record<string, number>,
    reinstated: 0,
    non_disclosure: 0,
  };
  const orderTimes: number[] = [];
  /** Art. 7(3)(e): review proceedings the platform itself brought (its scrutiny requests). */
  const byPlatform = { requested: 0, outcomes: {} as Record<string, number> };
  for (const o of orders) {
    increment(ro.by_member_state, o.member_state);
    for (const letter of JSON.parse(o.content_types) as string[]) increment(ro.by_content_type, letter);
    if (o.cross_border === 1) ro.cross_border++;
    if (o.scrutiny_requested_by) ro.scrutiny_requested++;
    if (o.scrutiny_outcome) increment(ro.scrutiny_outcomes, o.scrutiny_outcome);
    if (o.scrutiny_requested_by === 'platform') {
      byPlatform.requested++;
      if (o.scrutiny_outcome) increment(byPlatform.outcomes, o.scrutiny_outcome);
    }
    if (o.reinstated_at) ro.reinstated++;
    if (o.non_disclosure_until) ro.non_disclosure++;
    if (o.actioned_at) {
      ro.actioned++;
      ro.items_actioned += o.item_count;
      if (o.late === 1) ro.late++;
      else ro.within_one_hour++;
      orderTimes.push(seconds(o.received_at, o.actioned_at));
    } else if (o.annex_iii_ground) {
      ro.not_executed++;
      increment(ro.not_executed_by_ground, o.annex_iii_ground);
    } else if (o.status === 'open') ro.pending++;
  }

  const referrals = await store.referrals('platform_org_id', org.id, period);
  const byOutcome: Record<string, number> = { actioned: 0, partial: 0, declined: 0, pending: 0 };
  const byAuthority: Record<string, number> = {};
  const names = await store.organisationNames([...new Set(referrals.map((r) => r.authority_org_id))]);
  for (const r of referrals) {
    increment(byOutcome, r.outcome);
    increment(byAuthority, names.get(r.authority_org_id) ?? String(r.authority_org_id));
  }
  const decidedReferrals = byOutcome.actioned + byOutcome.partial + byOutcome.declined;

  const appeals = await store.appeals([org.id], period);
  const nowIso = now.toISOString();
  const ap = {
    filed: appeals.length,
    open: 0,
    overdue: 0,
    upheld: 0,
    reversed: 0,
    automated_detection: { filed: 0, upheld: 0, reversed: 0 },
    other_detection: { filed: 0, upheld: 0, reversed: 0 },
    by_channel: {} as Record<string, number>,
  };
  const appealTimes: number[] = [];
  for (const a of appeals) {
    const split = a.automated_detection === 1 ? ap.automated_detection : ap.other_detection;
    split.filed++;
    increment(ap.by_channel, a.channel);
    if (a.status === 'open') {
      ap.open++;
      if (a.due_at < nowIso) ap.overdue++;
    } else {
      if (a.status === 'upheld') {
        ap.upheld++;
        split.upheld++;
      } else {
        ap.reversed++;
        split.reversed++;
      }
      appealTimes.push(seconds(a.filed_at, a.decided_at!));
    }
  }

  const reversals = await store.bankReversals({ orgId: org.id }, period);
  const bankReversed = new Map<number, Set<number>>();
  for (const r of reversals) {
    const set = bankReversed.get(r.bank_id) ?? new Set<number>();
    set.add(r.appeal_id);
    bankReversed.set(r.bank_id, set);
  }
  const bankIds = [...new Set([...bankActioned.keys(), ...bankReversed.keys()])].sort((a, b) => a - b);
  const bankRows = await store.banks(bankIds);
  const banks = bankRows
    .sort((a, b) => a.id - b.id)
    .map((b) => {
      const actioned = bankActioned.get(b.id) ?? 0;
      const reversed = bankReversed.get(b.id)?.size ?? 0;
      return {
        bank_id: b.id,
        name: b.name,
        owner_org_id: b.org_id,
        shared: b.org_id !== org.id,
        actioned,
        reversed,
        error_rate: share(reversed, actioned),
      };
    });
  const contributions = await store.contributions(org.id, period);

  // Crisis periods: the decisions taken within each (the same counting as the totals).
  const crisisPeriods: CrisisPeriodFigures[] = [];
  for (const c of await crisis.periods(org.id, period.from, period.to)) {
    const within = clipToPeriod(c, period, now);
    if (!within) continue;
    await catchUpFacts(db, org.id, within);
    const figures = { decisions: 0, actioned: 0, automated_actioned: 0 };
    for (const g of await store.factGroups(org.id, within)) {
      figures.decisions += g.n;
      if (!ACTIONED.has(g.decision)) continue;
      figures.actioned += g.n;
      if (g.automated === 1) figures.automated_actioned += g.n;
    }
    crisisPeriods.push({ id: c.id, name: c.name, ...within, ...figures });
  }

  return {
    report: 'company',
    schema_version: 1,
    organisation: org,
    period,
    generated_at: nowIso,
    methodology: METHODOLOGY,
    totals: { ...totals, automated_share: share(totals.automated_actioned, totals.actioned) },
    actioned_by_detection_source: bySource,
    actioned_by_label: byLabel,
    actioned_by_territory: byTerritory,
    actioned_by_format: byFormat,
    actioned_by_restriction: byRestriction,
    time_to_action_seconds: histogramDistribution(actionTimes),
    removal_orders: {
      ...ro,
      within_one_hour_share: share(ro.within_one_hour, ro.actioned),
      time_to_action_seconds: distribution(orderTimes),
    },
    referrals: {
      received: referrals.length,
      by_outcome: byOutcome,
      by_authority: byAuthority,
      acceptance_rate: share(byOutcome.actioned + byOutcome.partial, decidedReferrals),
    },
    appeals: {
      ...ap,
      reversal_rate: share(ap.reversed, ap.upheld + ap.reversed),
      decision_time_seconds: distribution(appealTimes),
    },
    banks,
    hash_sharing: {
      entries_contributed_own_banks: contributions.own,
      entries_contributed_other_banks: contributions.others,
      reversals_reported_to_other_banks: reversals.filter((r) => r.bank_org_id !== org.id).length,
    },
    tco_art_7_3: {
      a_measures:
        'Hash matching (PDQ, vPDQ, MD5, SHA-256) of uploads against own and shared banks; user reports, alerts and referrals reviewed by people; removal orders handled within one hour.',
      b_reappearance:
        'Content removed after review can be added to a bank, so that copies are matched at upload; exact copies are blocked automatically, near copies go to a person.',
      c_items_removed_following_orders: ro.items_actioned,
      c_orders_not_executed: ro.not_executed,
      c_grounds: ro.not_executed_by_ground,
      d_complaints: ap.filed,
      d_outcomes: { upheld: ap.upheld, reversed: ap.reversed, pending: ap.open },
      e_review_proceedings: byPlatform.requested,
      e_outcomes: byPlatform.outcomes,
      f_reinstated_required: ro.reinstated,
      g_reinstated_following_complaint: ap.reversed,
    },
    crisis_periods: { recorded: crisis !== NO_CRISIS_PERIODS, periods: crisisPeriods },
  };
}
