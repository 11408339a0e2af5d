/**
 * Every report figure is computed here a second time, straight from the seeded specification (not from the
 * database and not with the code under test), and compared with what the API returns.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_CRISIS_PERIODS } from '../../src/transparency/crisis-periods.js';
import { REPORT_SCHEMA } from '../../src/transparency/report-schema.js';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';

const FROM = '2025-01-01T00:00:00.000Z';
const TO = '2026-01-01T00:00:00.000Z';
const SOURCES = [
  'removal_order',
  'referral',
  'alert',
  'trusted_flagger',
  'user_report',
  'shared_bank',
  'own_bank',
  'proactive',
] as const;
const DECISIONS = ['remove', 'restrict', 'label', 'no-violation'] as const;
const GROUNDS = ['force_majeure', 'de_facto_impossibility', 'manifest_error', 'insufficient_information'];

function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(13);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.parse(FROM);
const YEAR = Date.parse(TO) - T0;
/** An instant inside the period, or (sometimes) just outside it. */
const when = (inside: boolean) =>
  inside
    ? T0 + int(0, YEAR - 200_000_000)
    : pick([T0 - int(1, 9) * 86_400_000, Date.parse(TO) + int(0, 9) * 86_400_000]);
const nearestRank = (values: number[], p: number) => {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(1, Math.ceil((p / 100) * s.length)) - 1];
};
const dist = (values: number[]) => ({
  count: values.length,
  p50: nearestRank(values, 50),
  p90: nearestRank(values, 90),
  p99: nearestRank(values, 99),
});
const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 10_000) / 10_000);
const tally = (keys: string[]) =>
  keys.reduce<Record<string, number>>((o, k) => ((o[k] = (o[k] ?? 0) + 1), o), {});

interface DecisionSpec {
  source: (typeof SOURCES)[number];
  decision: (typeof DECISIONS)[number];
  automated: boolean;
  country?: string;
  format?: string;
  banks: ('own' | 'shared' | 'hub')[];
  labels: string[];
  caseAt: number;
  delay: number;
  inPeriod: boolean;
}
interface OrderSpec {
  authority: 'a1' | 'a2';
  received: number;
  inPeriod: boolean;
  items: number;
  outcome: 'actioned' | 'annex_iii' | 'pending' | 'withdrawn';
  late: boolean;
  delay: number;
  ground?: string;
  crossBorder: boolean;
  scrutinyBy?: string;
  scrutinyOutcome?: string;
  nonDisclosureDays?: number;
  extended: boolean;
  letters: string[];
  member: string;
  decision?: DecisionSpec;
}
interface ReferralSpec {
  authority: 'a1' | 'a2';
  inPeriod: boolean;
  outcome: 'actioned' | 'partial' | 'declined' | 'pending';
  basis?: string;
  decision?: DecisionSpec;
}
interface AppealSpec {
  decision: DecisionSpec;
  status: 'open' | 'upheld' | 'reversed';
  filed: number;
  inPeriod: boolean;
  took: number;
  channel: 'api' | 'link';
}

// ---- the specification of the record ----
const decisions: DecisionSpec[] = [];
for (let i = 0; i < 240; i++) {
  const source = pick(SOURCES);
  const bankSource = source === 'own_bank' || source === 'shared_bank';
  const inPeriod = rand() < 0.85;
  const decidedAt = when(inPeriod);
  const delay = int(0, 200_000);
  decisions.push({
    source,
    decision: pick(DECISIONS),
    automated: bankSource && rand() < 0.5,
    country: bankSource ? pick(['DE', 'FR', undefined]) : undefined,
    format: bankSource ? pick(['photo', 'video', 'other']) : undefined,
    banks:
      source === 'own_bank'
        ? ['own']
        : source === 'shared_bank'
          ? rand() < 0.5
            ? ['shared', 'own']
            : [pick(['shared', 'hub'] as const)]
          : [],
    labels: bankSource
      ? [
          ...new Set([
            pick(['glorification', 'instruction', 'threat']),
            pick(['glorification', 'instruction']),
          ]),
        ]
      : [],
    caseAt: decidedAt - delay * 1000,
    delay,
    inPeriod,
  });
}
const orders: OrderSpec[] = [];
for (const d of decisions.filter((x) => x.source === 'removal_order')) {
  d.decision = 'remove';
  const late = rand() < 0.3;
  orders.push(
    orderSpec({
      outcome: 'actioned',
      late,
      decision: d,
      received: d.caseAt,
      inPeriod: d.caseAt >= T0 && d.caseAt < Date.parse(TO),
      delay: d.delay,
    }),
  );
}
for (let i = 0; i < 30; i++) {
  const inPeriod = rand() < 0.8;
  const outcome = pick(['annex_iii', 'pending', 'withdrawn', 'actioned'] as const);
  orders.push(
    orderSpec({ outcome, inPeriod, received: when(inPeriod), late: rand() < 0.5, delay: int(60, 7200) }),
  );
}
function orderSpec(o: Partial<OrderSpec>): OrderSpec {
  const crossBorder = rand() < 0.4;
  const scrutinyBy =
    crossBorder && rand() < 0.5 ? pick(['platform', 'content_provider', 'competent_authority']) : undefined;
  return {
    authority: pick(['a1', 'a2'] as const),
    received: 0,
    inPeriod: true,
    items: int(1, 4),
    outcome: 'pending',
    late: false,
    delay: 0,
    ground: o.outcome === 'annex_iii' ? pick(GROUNDS) : undefined,
    crossBorder,
    scrutinyBy,
    scrutinyOutcome: scrutinyBy
      ? o.outcome === 'withdrawn'
        ? 'infringement'
        : pick(['no_infringement', undefined])
      : undefined,
    nonDisclosureDays: rand() < 0.3 ? int(7, 42) : undefined,
    extended: rand() < 0.5,
    letters: [...new Set([pick(['a', 'b', 'c', 'd', 'e']), pick(['a', 'e'])])],
    member: pick(['DE', 'FR', 'IE']),
    ...o,
  };
}
const referrals: ReferralSpec[] = [];
for (const d of decisions.filter((x) => x.source === 'referral'))
  referrals.push({
    authority: pick(['a1', 'a2'] as const),
    inPeriod: d.inPeriod,
    outcome: 'actioned',
    basis: 'Terms 4.2',
    decision: d,
  });
for (let i = 0; i < 25; i++) {
  const outcome = pick(['actioned', 'partial', 'declined', 'pending'] as const);
  referrals.push({
    authority: pick(['a1', 'a2'] as const),
    inPeriod: rand() < 0.8,
    outcome,
    basis: outcome === 'pending' ? undefined : pick(['Terms 4.2', 'StGB 129a']),
  });
}
const appeals: AppealSpec[] = [];
for (const d of decisions) {
  if (!['remove', 'restrict', 'label'].includes(d.decision) || rand() < 0.6) continue;
  const inPeriod = rand() < 0.85;
  appeals.push({
    decision: d,
    status: pick(['open', 'upheld', 'reversed'] as const),
    filed: when(inPeriod),
    inPeriod,
    took: int(3600, 20 * 86_400),
    channel: pick(['api', 'link'] as const),
  });
}

describe.each(TEST_DIALECTS)('transparency reports computed from the record (%s)', (dialect) => {
  let t: TestApp;
  const org: Record<string, { id: number; key: string }> = {};
  const bank: Record<'own' | 'shared' | 'hub', number> = { own: 0, shared: 0, hub: 0 };

  beforeAll(async () => {
    t = await startTestApp(dialect);
    for (const [name, kind, role] of [
      ['p', 'platform', 'admin'],
      ['q', 'platform', 'admin'],
      ['hub', 'hub', 'admin'],
      ['a1', 'authority', 'authority'],
      ['a2', 'authority', 'authority'],
      ['empty', 'platform', 'admin'],
    ] as const) {
      const o = await t.ctx.organisations.create(`org-${name}`, kind);
      org[name] = { id: o.id, key: (await t.ctx.apiKeys.create(o.id, { name: 'k', role })).key };
    }
    const db = t.ctx.database.db;
    const now = new Date().toISOString();
    for (const [name, owner] of [
      ['own', 'p'],
      ['shared', 'q'],
      ['hub', 'hub'],
    ] as const) {
      const row = await db
        .insertInto('banks')
        .values({
          org_id: org[owner].id,
          name: `bank-${name}`,
          description: '',
          default_labels: '[]',
          thresholds: '{}',
          enabled: 1,
          sharing: 'shared',
          created_at: now,
          updated_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      bank[name] = row.id;
    }
    for (const member of ['p', 'q'])
      await db
        .insertInto('bank_shares')
        .values({ bank_id: bank.hub, org_id: org[member].id, can_contribute: 0, created_at: now })
        .execute();

    const P = org.p.id;
    const decisionIds = new Map<DecisionSpec, { decisionId: number; caseId: number }>();
    const evidenceOf = (d: DecisionSpec) =>
      d.banks.map((b, i) => ({
        signalType: 'pdq',
        signalIndex: 0,
        distance: 0,
        bank: {
          id: bank[b],
          name: `bank-${b}`,
          orgId: org[b === 'own' ? 'p' : b === 'shared' ? 'q' : 'hub'].id,
        },
        entry: {
          id: 1000 + i,
          labels: d.labels,
          contributorOrgId: P,
          source: 'api',
          externalId: null,
          status: 'active',
        },
      }));
    let n = 0;
    for (const d of decisions) {
      n++;
      const bankSource = d.banks.length > 0;
      let submissionId: number | null = null;
      if (bankSource) {
        const context: Record<string, unknown> = { content_type: d.format ?? null };
        if (d.country) context.country = d.country;
        submissionId = (
          await db
            .insertInto('submissions')
            .values({
              org_id: P,
              external_id: `c${n}`,
              idempotency_key: null,
              request_hash: 'x',
              signals: '[]',
              uploader_id: `u${n}`,
              context: JSON.stringify(context),
              verdict: 'queued',
              case_id: null,
              created_at: iso(d.caseAt),
            })
            .returning('id')
            .executeTakeFirstOrThrow()
        ).id;
      }
      const caseId = (
        await db
          .insertInto('cases')
          .values({
            org_id: P,
            submission_id: submissionId,
            external_id: `c${n}`,
            status: 'decided',
            priority: 'normal',
            due_at: iso(d.caseAt),
            assignee: null,
            evidence: JSON.stringify(bankSource ? evidenceOf(d) : []),
            created_at: iso(d.caseAt),
            updated_at: iso(d.caseAt),
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
      if (['alert', 'trusted_flagger', 'user_report'].includes(d.source))
        await db
          .insertInto('reports')
          .values({
            org_id: P,
            case_id: caseId,
            kind: d.source === 'alert' ? 'alert' : 'report',
            external_id: `c${n}`,
            url: null,
            source:
              d.source === 'trusted_flagger' ? 'trusted_flagger' : d.source === 'alert' ? 'tcap' : 'user',
            category: null,
            detail: '{}',
            created_at: iso(d.caseAt),
          })
          .execute();
      const decisionId = (
        await db
          .insertInto('decisions')
          .values({
            case_id: caseId,
            org_id: P,
            decision: d.decision,
            ground_type: 'terms',
            ground: 'g',
            reason: 'r',
            automated: d.automated ? 1 : 0,
            decided_by: d.automated ? 'system:policy' : 'user:1',
            created_at: iso(d.caseAt + d.delay * 1000),
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
      decisionIds.set(d, { decisionId, caseId });
    }
    let ref = 0;
    for (const o of orders) {
      ref++;
      const actioned = o.outcome === 'actioned' || o.outcome === 'withdrawn';
      const deadline = o.received + 3_600_000;
      const actionedAt = o.decision
        ? o.received + o.delay * 1000
        : o.received + (o.late ? 3_700_000 : 1_800_000);
      const isLate = o.decision ? o.late : o.late;
      await db
        .insertInto('removal_orders')
        .values({
          authority_org_id: org[o.authority].id,
          platform_org_id: P,
          reference: `O-${ref}`,
          authority_name: o.authority,
          member_state: o.member,
          content_types: JSON.stringify(o.letters),
          reasons: 'r',
          items: '[]',
          item_count: o.items,
          legal_basis: 'TCO',
          signed_at: iso(o.received),
          signature: 's',
          redress: 'r',
          non_disclosure_until: o.nonDisclosureDays
            ? iso(o.received + o.nonDisclosureDays * 86_400_000)
            : null,
          non_disclosure_extended: o.nonDisclosureDays && o.extended ? 1 : 0,
          cross_border: o.crossBorder ? 1 : 0,
          received_at: iso(o.received),
          clock_start: iso(o.received),
          deadline_at: iso(deadline),
          status: o.outcome === 'annex_iii' ? 'suspended' : o.outcome === 'pending' ? 'open' : o.outcome,
          case_id: o.decision ? decisionIds.get(o.decision)!.caseId : null,
          action: actioned ? 'removed' : null,
          actioned_at: actioned ? iso(actionedAt) : null,
          answered_at: actioned ? iso(actionedAt) : null,
          late: actioned && isLate ? 1 : 0,
          annex_iii_ground: o.ground ?? null,
          annex_iii_at: o.ground ? iso(o.received + 600_000) : null,
          scrutiny_requested_by: o.scrutinyBy ?? null,
          scrutiny_requested_at: o.scrutinyBy ? iso(o.received + 3_600_000) : null,
          scrutiny_deadline_at: o.scrutinyBy ? iso(o.received + 76 * 3_600_000) : null,
          scrutiny_outcome: o.scrutinyOutcome ?? null,
          reinstated_at: o.outcome === 'withdrawn' ? iso(o.received + 80 * 3_600_000) : null,
          created_at: iso(o.received),
        })
        .execute();
      o.delay = Math.round((actionedAt - o.received) / 1000);
      o.late = actioned && isLate;
    }
    for (const r of referrals) {
      ref++;
      const at = r.decision ? r.decision.caseAt : when(r.inPeriod);
      r.inPeriod = at >= T0 && at < Date.parse(TO);
      await db
        .insertInto('referrals')
        .values({
          authority_org_id: org[r.authority].id,
          platform_org_id: P,
          reference: `R-${ref}`,
          items: '[]',
          item_count: 1,
          basis_cited: 'ToS',
          reasons: 'r',
          received_at: iso(at),
          outcome: r.outcome,
          basis_used: r.basis ?? null,
          outcome_at: r.outcome === 'pending' ? null : iso(at),
          case_id: r.decision ? decisionIds.get(r.decision)!.caseId : null,
        })
        .execute();
    }
    for (const a of appeals) {
      const ids = decisionIds.get(a.decision)!;
      const decided = a.status === 'open' ? null : iso(a.filed + a.took * 1000);
      const row = await db
        .insertInto('appeals')
        .values({
          org_id: P,
          decision_id: ids.decisionId,
          case_id: ids.caseId,
          appellant_id: 'u',
          channel: a.channel,
          statement: 's',
          status: a.status,
          original_decider: 'user:1',
          automated_detection: a.decision.banks.length > 0 ? 1 : 0,
          bank_ids: '[]',
          assignee: null,
          filed_at: iso(a.filed),
          due_at: iso(a.filed + 14 * 86_400_000),
          decided_at: decided,
          decided_by: decided ? 'user:2' : null,
          reply: decided ? 'reasons' : null,
          restore_action_id: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (a.status === 'reversed')
        for (const [i, b] of a.decision.banks.entries())
          await db
            .insertInto('bank_reversals')
            .values({
              appeal_id: row.id,
              bank_id: bank[b],
              entry_id: 1000 + i,
              bank_org_id: org[b === 'own' ? 'p' : b === 'shared' ? 'q' : 'hub'].id,
              org_id: P,
              created_at: decided!,
            })
            .execute();
    }
  }, 120_000);
  afterAll(async () => t.close());

  const get = (key: string, url: string) => t.app.inject({ method: 'GET', url, headers: bearer(key) });
  const inP = (ms: number) => ms >= T0 && ms < Date.parse(TO);
  const ACT = ['remove', 'restrict', 'label'];
  /** The decisions of the record taken within [from, to), counted as a crisis period counts them. */
  const within = (from: string, to: string) => {
    const dec = decisions.filter((d) => {
      const at = d.caseAt + d.delay * 1000;
      return at >= Date.parse(from) && at < Date.parse(to);
    });
    const act = dec.filter((d) => ACT.includes(d.decision));
    return {
      decisions: dec.length,
      actioned: act.length,
      automated_actioned: act.filter((d) => d.automated).length,
    };
  };

  it('computes every company figure as the specification says', async () => {
    const res = await get(org.p.key, `/v1/transparency/company?from=2025-01-01&to=2026-01-01`);
    expect(res.statusCode).toBe(200);
    const r = res.json();
    const dec = decisions.filter((d) => d.inPeriod);
    const act = dec.filter((d) => ACT.includes(d.decision));
    // The seed exercises every branch (so that none of the comparisons below is vacuous).
    expect(act.length).toBeGreaterThan(100);
    for (const s of SOURCES) expect(act.filter((d) => d.source === s).length).toBeGreaterThan(0);
    expect(orders.filter((o) => o.inPeriod && o.late).length).toBeGreaterThan(0);
    expect(appeals.filter((a) => a.inPeriod && a.status === 'reversed').length).toBeGreaterThan(0);
    expect(r.totals).toEqual({
      decisions: dec.length,
      actioned: act.length,
      no_violation: dec.filter((d) => d.decision === 'no-violation').length,
      automated_actioned: act.filter((d) => d.automated).length,
      automated_share: ratio(act.filter((d) => d.automated).length, act.length),
    });
    const bySource = Object.fromEntries(SOURCES.map((s) => [s, 0]));
    for (const d of act) {
      const s = d.source === 'shared_bank' && !d.banks.some((b) => b !== 'own') ? 'own_bank' : d.source;
      bySource[s]++;
    }
    expect(r.actioned_by_detection_source).toEqual(bySource);
    expect(r.actioned_by_label).toEqual(
      tally(act.flatMap((d) => (d.labels.length ? d.labels : ['unlabelled']))),
    );
    expect(r.actioned_by_territory).toEqual(tally(act.map((d) => d.country ?? 'unknown')));
    expect(r.actioned_by_format).toEqual(tally(act.map((d) => d.format ?? 'unknown')));
    expect(r.actioned_by_restriction).toEqual(tally(act.map((d) => d.decision)));
    expect(r.time_to_action_seconds).toEqual(dist(act.map((d) => d.delay)));

    const ords = orders.filter((o) => o.inPeriod);
    const done = ords.filter((o) => o.outcome === 'actioned' || o.outcome === 'withdrawn');
    expect(r.removal_orders).toEqual({
      received: ords.length,
      actioned: done.length,
      items_actioned: done.reduce((s, o) => s + o.items, 0),
      within_one_hour: done.filter((o) => !o.late).length,
      within_one_hour_share: ratio(done.filter((o) => !o.late).length, done.length),
      late: done.filter((o) => o.late).length,
      pending: ords.filter((o) => o.outcome === 'pending').length,
      not_executed: ords.filter((o) => o.outcome === 'annex_iii').length,
      not_executed_by_ground: tally(ords.filter((o) => o.outcome === 'annex_iii').map((o) => o.ground!)),
      by_member_state: tally(ords.map((o) => o.member)),
      by_content_type: tally(ords.flatMap((o) => o.letters)),
      time_to_action_seconds: dist(done.map((o) => o.delay)),
      cross_border: ords.filter((o) => o.crossBorder).length,
      scrutiny_requested: ords.filter((o) => o.scrutinyBy).length,
      scrutiny_outcomes: tally(ords.flatMap((o) => (o.scrutinyOutcome ? [o.scrutinyOutcome] : []))),
      reinstated: ords.filter((o) => o.outcome === 'withdrawn').length,
      non_disclosure: ords.filter((o) => o.nonDisclosureDays).length,
    });
    const refs = referrals.filter((x) => x.inPeriod);
    const outcome = {
      actioned: 0,
      partial: 0,
      declined: 0,
      pending: 0,
      ...tally(refs.map((x) => x.outcome)),
    };
    expect(r.referrals).toEqual({
      received: refs.length,
      by_outcome: outcome,
      by_authority: tally(refs.map((x) => `org-${x.authority}`)),
      acceptance_rate: ratio(
        outcome.actioned + outcome.partial,
        outcome.actioned + outcome.partial + outcome.declined,
      ),
    });
    const aps = appeals.filter((a) => a.inPeriod);
    const split = (auto: boolean) => {
      const xs = aps.filter((a) => a.decision.banks.length > 0 === auto);
      return {
        filed: xs.length,
        upheld: xs.filter((a) => a.status === 'upheld').length,
        reversed: xs.filter((a) => a.status === 'reversed').length,
      };
    };
    const closed = aps.filter((a) => a.status !== 'open');
    expect(r.appeals).toEqual({
      filed: aps.length,
      open: aps.filter((a) => a.status === 'open').length,
      overdue: aps.filter((a) => a.status === 'open').length, // all of 2025 is past its 14 days
      upheld: aps.filter((a) => a.status === 'upheld').length,
      reversed: aps.filter((a) => a.status === 'reversed').length,
      reversal_rate: ratio(aps.filter((a) => a.status === 'reversed').length, closed.length),
      decision_time_seconds: dist(closed.map((a) => a.took)),
      automated_detection: split(true),
      other_detection: split(false),
      by_channel: tally(aps.map((a) => a.channel)),
    });
    // Per-bank: actioned decisions in the period with the bank's evidence; reversals decided in the period.
    const banksSeen = ['own', 'shared', 'hub'] as const;
    const expectedBanks = banksSeen
      .map((b) => {
        const actioned = act.filter((d) => d.banks.includes(b)).length;
        const reversed = appeals.filter(
          (a) => a.status === 'reversed' && a.decision.banks.includes(b) && inP(a.filed + a.took * 1000),
        ).length;
        return { b, actioned, reversed };
      })
      .filter((x) => x.actioned + x.reversed > 0)
      .map((x) => ({
        bank_id: bank[x.b],
        name: `bank-${x.b}`,
        owner_org_id: org[x.b === 'own' ? 'p' : x.b === 'shared' ? 'q' : 'hub'].id,
        shared: x.b !== 'own',
        actioned: x.actioned,
        reversed: x.reversed,
        error_rate: ratio(x.reversed, x.actioned),
      }))
      .sort((a, b) => a.bank_id - b.bank_id);
    expect(expectedBanks).toHaveLength(3);
    expect(r.banks).toEqual(expectedBanks);
    expect(r.tco_art_7_3).toMatchObject({
      c_items_removed_following_orders: done.reduce((s, o) => s + o.items, 0),
      c_orders_not_executed: ords.filter((o) => o.outcome === 'annex_iii').length,
      d_complaints: aps.length,
      d_outcomes: {
        upheld: split(true).upheld + split(false).upheld,
        reversed: split(true).reversed + split(false).reversed,
        pending: aps.filter((a) => a.status === 'open').length,
      },
      e_review_proceedings: ords.filter((o) => o.scrutinyBy === 'platform').length,
      f_reinstated_required: ords.filter((o) => o.outcome === 'withdrawn').length,
      g_reinstated_following_complaint: aps.filter((a) => a.status === 'reversed').length,
    });
    const validate = new Ajv2020({ strict: false });
    addFormats.default(validate);
    expect(validate.validate(REPORT_SCHEMA, r), JSON.stringify(validate.errors)).toBe(true);
  });

  it('computes the government report of each authority', async () => {
    for (const a of ['a1', 'a2'] as const) {
      const r = (await get(org[a].key, `/v1/transparency/government?from=${FROM}&to=${TO}`)).json();
      const ords = orders.filter((o) => o.inPeriod && o.authority === a);
      const done = ords.filter((o) => o.outcome === 'actioned' || o.outcome === 'withdrawn');
      expect(r.removal_orders).toMatchObject({
        issued: ords.length,
        items: ords.reduce((s, o) => s + o.items, 0),
        cross_border: ords.filter((o) => o.crossBorder).length,
        cross_border_share: ratio(ords.filter((o) => o.crossBorder).length, ords.length),
        scrutinised: ords.filter((o) => o.scrutinyBy).length,
        actioned: done.length,
        not_executed: ords.filter((o) => o.outcome === 'annex_iii').length,
        withdrawn: ords.filter((o) => o.outcome === 'withdrawn').length,
        within_one_hour: done.filter((o) => !o.late).length,
        time_to_action_seconds: dist(done.map((o) => o.delay)),
        by_platform: [
          {
            platform_org_id: org.p.id,
            platform: 'org-p',
            issued: ords.length,
            actioned: done.length,
            within_one_hour: done.filter((o) => !o.late).length,
            not_executed: ords.filter((o) => o.outcome === 'annex_iii').length,
            median_seconds: nearestRank(
              done.map((o) => o.delay),
              50,
            ),
          },
        ],
      });
      const refs = referrals.filter((x) => x.inPeriod && x.authority === a);
      const outcome = {
        actioned: 0,
        partial: 0,
        declined: 0,
        pending: 0,
        ...tally(refs.map((x) => x.outcome)),
      };
      expect(r.referrals.sent).toBe(refs.length);
      expect(r.referrals.by_outcome).toEqual(outcome);
      expect(r.referrals.acceptance_rate).toBe(
        ratio(outcome.actioned + outcome.partial, outcome.actioned + outcome.partial + outcome.declined),
      );
      const nd = ords.filter((o) => o.nonDisclosureDays);
      expect(r.non_disclosure.orders).toBe(nd.length);
      expect(r.non_disclosure.extended).toBe(nd.filter((o) => o.extended).length);
    }
  });

  it('computes the hub aggregates over its members', async () => {
    const r = (await get(org.hub.key, `/v1/transparency/hub?from=${FROM}&to=${TO}`)).json();
    const dec = decisions.filter((d) => d.inPeriod);
    const act = dec.filter((d) => ACT.includes(d.decision));
    expect(r).toMatchObject({
      members: 2,
      decisions: dec.length,
      actioned: act.length,
      automated_share: ratio(act.filter((d) => d.automated).length, act.length),
      removal_orders: { received: orders.filter((o) => o.inPeriod).length },
      appeals: {
        filed: appeals.filter((a) => a.inPeriod).length,
        reversed: appeals.filter((a) => a.inPeriod && a.status === 'reversed').length,
      },
    });
    const hubReversals = appeals.filter(
      (a) => a.status === 'reversed' && a.decision.banks.includes('hub') && inP(a.filed + a.took * 1000),
    ).length;
    expect(r.banks).toEqual(
      hubReversals ? [{ bank_id: bank.hub, name: 'bank-hub', reversals: hubReversals }] : [],
    );
  });

  it('counts a period whose ends fall inside days the same as the fact rows (daily roll-up plus edges)', async () => {
    // Ends at odd instants, so that whole days come from the roll-up and the two partial days from the facts:
    // just before the 20th decision and just after the 200th, so that each partial day holds one at least.
    const at = (d: DecisionSpec) => d.caseAt + d.delay * 1000;
    const times = decisions.map(at).sort((a, b) => a - b);
    const from = iso(times[20] - 1000);
    const to = iso(times[200] + 1000);
    const r = (await get(org.p.key, `/v1/transparency/company?from=${from}&to=${to}`)).json();
    const dec = decisions.filter((d) => at(d) >= Date.parse(from) && at(d) < Date.parse(to));
    const act = dec.filter((d) => ACT.includes(d.decision));
    // Some decisions fall on the partial first and last days (the edges are exercised).
    const sameDay = (ms: number, edge: string) => iso(ms).slice(0, 10) === edge.slice(0, 10);
    expect(dec.some((d) => sameDay(at(d), from) || sameDay(at(d), to))).toBe(true);
    expect(r.totals).toEqual({
      decisions: dec.length,
      actioned: act.length,
      no_violation: dec.filter((d) => d.decision === 'no-violation').length,
      automated_actioned: act.filter((d) => d.automated).length,
      automated_share: ratio(act.filter((d) => d.automated).length, act.length),
    });
    expect(r.actioned_by_territory).toEqual(tally(act.map((d) => d.country ?? 'unknown')));
    expect(r.actioned_by_restriction).toEqual(tally(act.map((d) => d.decision)));
    expect(r.actioned_by_label).toEqual(
      tally(act.flatMap((d) => (d.labels.length ? d.labels : ['unlabelled']))),
    );
    expect(r.time_to_action_seconds).toEqual(dist(act.map((d) => d.delay)));

    // The roll-up holds exactly the fact rows, day by day (asking twice added nothing).
    const db = t.ctx.database.db;
    const facts = await db
      .selectFrom('decision_facts')
      .select(['created_at', 'decision', 'source'])
      .where('org_id', '=', org.p.id)
      .execute();
    const days = await db
      .selectFrom('decision_fact_days')
      .select(['day', 'decision', 'source', 'n'])
      .where('org_id', '=', org.p.id)
      .execute();
    const fromFacts = tally(facts.map((f) => `${f.created_at.slice(0, 10)}|${f.decision}|${f.source}`));
    const fromDays: Record<string, number> = {};
    for (const d of days) {
      const key = `${d.day}|${d.decision}|${d.source}`;
      fromDays[key] = (fromDays[key] ?? 0) + Number(d.n);
    }
    expect(fromDays).toEqual(fromFacts);
  });

  it('counts the decisions within each crisis period the source gives, and none without a source', async () => {
    const url = `/v1/transparency/company?from=${FROM}&to=${TO}`;
    const recorded = t.ctx.transparency.crisisPeriods;
    t.ctx.transparency.crisisPeriods = NO_CRISIS_PERIODS;
    expect((await get(org.p.key, url)).json().crisis_periods).toEqual({ recorded: false, periods: [] });
    expect((await get(org.hub.key, `/v1/transparency/hub?from=${FROM}&to=${TO}`)).json()).toMatchObject({
      crisis_activations: [],
      not_recorded: ['crisis activations', 'hash disputes between members'],
    });
    t.ctx.transparency.crisisPeriods = recorded;
    const asked: unknown[] = [];
    const crises = [
      // Inside the year, at odd instants.
      { id: 'pci-1', name: 'Attack A', from: '2025-04-02T08:32:00.000Z', to: '2025-06-03T16:06:00.000Z' },
      // Begins before the year: cut to it.
      { id: 'pci-0', name: 'Attack B', from: '2024-12-20T00:00:00.000Z', to: '2025-02-01T12:00:00.000Z' },
      // Outside the year: left out.
      { id: 'pci-9', name: 'Attack C', from: '2026-02-01T00:00:00.000Z', to: '2026-02-05T00:00:00.000Z' },
    ];
    t.ctx.transparency.crisisPeriods = {
      periods: async (orgId, from, to) => {
        asked.push([orgId, from, to]);
        return crises;
      },
    };
    try {
      const r = (await get(org.p.key, url)).json();
      expect(asked[0]).toEqual([org.p.id, FROM, TO]);
      expect(r.crisis_periods).toEqual({
        recorded: true,
        periods: [
          { ...crises[0], ...within(crises[0].from, crises[0].to) },
          { ...crises[1], from: FROM, ...within(FROM, crises[1].to) },
        ],
      });
      expect(r.crisis_periods.periods[0].decisions).toBeGreaterThan(0);
      const hub = (await get(org.hub.key, `/v1/transparency/hub?from=${FROM}&to=${TO}`)).json();
      expect(hub.crisis_activations).toEqual([
        {
          ...crises[0],
          decisions: within(crises[0].from, crises[0].to).decisions,
          actioned: within(crises[0].from, crises[0].to).actioned,
        },
        {
          ...crises[1],
          from: FROM,
          decisions: within(FROM, crises[1].to).decisions,
          actioned: within(FROM, crises[1].to).actioned,
        },
      ]);
      expect(hub.not_recorded).toEqual(['hash disputes between members']);
    } finally {
      t.ctx.transparency.crisisPeriods = recorded;
    }
  });

  it('takes its crisis periods from the crisis record: live activations of real incidents, never exercises', async () => {
    const url = `/v1/transparency/company?from=${FROM}&to=${TO}`;
    expect((await get(org.p.key, url)).json().crisis_periods).toEqual({ recorded: true, periods: [] });
    const coordinator = await t.ctx.organisations.create('Crisis secretariat', 'hub');
    const key = (await t.ctx.apiKeys.create(coordinator.id, { name: 'c', role: 'admin' })).key;
    const call = (method: 'POST' | 'PUT', path: string, payload: object) =>
      t.app.inject({ method, url: path, headers: bearer(key), payload });
    await call('PUT', `/v1/crisis/participants/${coordinator.id}`, {
      groups: [],
      roles: ['tcap_team'],
      contacts: [],
      accepts_incident_banks: false,
    });
    await call('PUT', `/v1/crisis/participants/${org.p.id}`, {
      groups: ['members'],
      roles: ['platform'],
      contacts: [],
      accepts_incident_banks: false,
    });
    const clock = (at: string) => (t.ctx.crisis.now = () => new Date(at));
    const run = async (title: string, exercise: boolean, activated: string, concluded: string) => {
      clock('2025-03-01T00:00:00.000Z');
      const incident = (
        await call('POST', '/v1/crisis/incidents', { title, exercise, protocols: ['tcap'] })
      ).json();
      const path = `/v1/crisis/activations/${incident.activations[0].id}`;
      await call('POST', `${path}/transitions`, { to: 'assessing', reason: 'reported' });
      await call('POST', `${path}/criteria`, { criterion: 'designated_entity', met: true });
      await call('POST', `${path}/decisions`, {
        type: 'TIER_3',
        rationale: 'Official propaganda of a designated entity.',
        human_rights: {
          necessity: 'yes',
          proportionality: 'yes',
          scope: 'designated content',
          bystander_content: false,
        },
      });
      clock(activated);
      const active = await call('POST', `${path}/transitions`, {
        to: 'active',
        reason: 'decided',
        type: 'TIER_3',
      });
      expect(active.statusCode, active.body).toBe(200);
      clock(concluded);
      await call('POST', `${path}/transitions`, {
        to: 'concluded',
        reason: 'over',
        basis: 'time_since_offline_event',
      });
      return incident.activations[0].id as number;
    };
    try {
      const real = await run(
        'Propaganda wave',
        false,
        '2025-05-10T06:00:00.000Z',
        '2025-05-12T18:30:00.000Z',
      );
      await run('Tabletop', true, '2025-07-01T00:00:00.000Z', '2025-07-02T00:00:00.000Z');
      const r = (await get(org.p.key, url)).json();
      expect(r.crisis_periods).toEqual({
        recorded: true,
        periods: [
          {
            id: `activation:${real}`,
            name: 'Propaganda wave (tcap TIER_3)',
            from: '2025-05-10T06:00:00.000Z',
            to: '2025-05-12T18:30:00.000Z',
            ...within('2025-05-10T06:00:00.000Z', '2025-05-12T18:30:00.000Z'),
          },
        ],
      });
      // An organisation outside the coordinator's network has no crisis period.
      expect((await get(org.empty.key, url)).json().crisis_periods.periods).toEqual([]);
    } finally {
      t.ctx.crisis.now = () => new Date();
    }
  });

  it('gives an empty period zeros and nulls, and CSV and HTML renderings', async () => {
    const empty = (await get(org.empty.key, '/v1/transparency/company?from=2025-01-01&to=2025-02-01')).json();
    expect(empty.totals).toEqual({
      decisions: 0,
      actioned: 0,
      no_violation: 0,
      automated_actioned: 0,
      automated_share: null,
    });
    expect(empty.time_to_action_seconds).toEqual({ count: 0, p50: null, p90: null, p99: null });
    expect(empty.removal_orders.within_one_hour_share).toBeNull();
    const csv = await get(org.p.key, `/v1/transparency/company?from=${FROM}&to=${TO}&format=csv`);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toBe('metric,value');
    expect(lines).toContain(`totals.decisions,${decisions.filter((d) => d.inPeriod).length}`);
    const html = await get(org.p.key, `/v1/transparency/company?from=${FROM}&to=${TO}&format=html`);
    expect(html.body).toContain('<svg role="img" aria-label="Actioned by detection source"');
    expect(html.body).toContain('company transparency report — org-p');
    // Its own inline style applies; scripts still do not run.
    expect(html.headers['content-security-policy']).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
    );
    // Wrong kind, bad period.
    expect((await get(org.a1.key, `/v1/transparency/company?from=${FROM}&to=${TO}`)).json().code).toBe(
      'KAI_ERR_REPORT_KIND',
    );
    expect((await get(org.p.key, `/v1/transparency/company?from=2026-01-01&to=2025-01-01`)).statusCode).toBe(
      400,
    );
  });

  it('serves the report publicly only when the organisation publishes it, with the JSON Schema', async () => {
    const url = `/public/transparency/${org.p.id}/company?from=${FROM}&to=${TO}`;
    expect((await t.app.inject({ method: 'GET', url })).statusCode).toBe(404);
    await t.app.inject({
      method: 'PUT',
      url: '/v1/settings/recourse',
      headers: bearer(org.p.key),
      payload: { publish_reports: true },
    });
    const published = await t.app.inject({ method: 'GET', url: `${url}&format=html` });
    expect(published.statusCode).toBe(200);
    expect(published.body).toContain('<html');
    const schema = await t.app.inject({ method: 'GET', url: '/public/transparency/report.schema.json' });
    expect(schema.json()).toEqual(JSON.parse(readFileSync('docs/transparency-report.schema.json', 'utf8')));
  });
});
