/** Read-only queries behind the transparency reports: every figure is computed from these rows. */
import type { Insertable } from 'kysely';
import { withTx, type Db } from './database.js';
import type { DecisionFactDaysTable, DecisionFactsTable } from './schema.js';

export interface Period {
  /** Inclusive ISO instant. */
  from: string;
  /** Exclusive ISO instant. */
  to: string;
}

export interface FactGroup {
  decision: string;
  automated: number;
  source: string;
  territory: string;
  format: string;
  labels: string;
  banks: string;
  n: number;
}

const DAY_KEY = [
  'org_id',
  'day',
  'decision',
  'automated',
  'source',
  'territory',
  'format',
  'labels',
  'banks',
] as const;

const DAY_MS = 86_400_000;

/**
 * A period as the whole UTC days inside it (YYYY-MM-DD, from inclusive, to exclusive) and the instants before and
 * after them. A period that holds no whole day is all edge.
 */
export function splitPeriod(period: Period): { days: { from: string; to: string } | null; edges: Period[] } {
  const from = new Date(period.from).getTime();
  const to = new Date(period.to).getTime();
  const firstDay = Math.ceil(from / DAY_MS) * DAY_MS;
  const endDay = Math.floor(to / DAY_MS) * DAY_MS;
  if (endDay <= firstDay) return { days: null, edges: [period] };
  const iso = (ms: number) => new Date(ms).toISOString();
  const edges: Period[] = [];
  if (firstDay > from) edges.push({ from: period.from, to: iso(firstDay) });
  if (to > endDay) edges.push({ from: iso(endDay), to: period.to });
  return { days: { from: iso(firstDay).slice(0, 10), to: iso(endDay).slice(0, 10) }, edges };
}

export interface DecisionFact {
  id: number;
  caseId: number;
  decision: string;
  automated: number;
  decidedAt: string;
  caseCreatedAt: string;
  submissionId: number | null;
  evidence: string;
  context: string | null;
}

export class TransparencyStore {
  constructor(private readonly db: Db) {}

  private decisionQuery() {
    return this.db
      .selectFrom('decisions as d')
      .innerJoin('cases as c', 'c.id', 'd.case_id')
      .leftJoin('submissions as s', 's.id', 'c.submission_id')
      .select([
        'd.id as id',
        'd.org_id as orgId',
        'd.case_id as caseId',
        'd.decision as decision',
        'd.automated as automated',
        'd.created_at as decidedAt',
        'c.created_at as caseCreatedAt',
        'c.submission_id as submissionId',
        'c.evidence as evidence',
        's.context as context',
      ]);
  }

  async decisionById(id: number): Promise<(DecisionFact & { orgId: number }) | undefined> {
    return this.decisionQuery().where('d.id', '=', id).executeTakeFirst();
  }

  async decisionsWithoutFacts(orgId: number, period: Period, limit: number): Promise<DecisionFact[]> {
    return this.decisionQuery()
      .leftJoin('decision_facts as f', 'f.decision_id', 'd.id')
      .where('d.org_id', '=', orgId)
      .where('d.created_at', '>=', period.from)
      .where('d.created_at', '<', period.to)
      .where('f.decision_id', 'is', null)
      .limit(limit)
      .execute();
  }

  async countDecisions(orgId: number, period: Period): Promise<number> {
    return this.countInPeriod('decisions', orgId, period);
  }

  /** Fact rows of the period, counted from the roll-up for whole days (it counts exactly the fact rows). */
  async countFacts(orgId: number, period: Period): Promise<number> {
    const split = splitPeriod(period);
    let n = 0;
    if (split.days) {
      const row = await this.db
        .selectFrom('decision_fact_days')
        .select((eb) => eb.fn.sum<number>('n').as('n'))
        .where('org_id', '=', orgId)
        .where('day', '>=', split.days.from)
        .where('day', '<', split.days.to)
        .executeTakeFirst();
      n += Number(row?.n ?? 0);
    }
    for (const edge of split.edges) n += await this.countInPeriod('decision_facts', orgId, edge);
    return n;
  }

  private async countInPeriod(
    table: 'decisions' | 'decision_facts',
    orgId: number,
    period: Period,
  ): Promise<number> {
    const row = await this.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('org_id', '=', orgId)
      .where('created_at', '>=', period.from)
      .where('created_at', '<', period.to)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** What else is tied to a case: a removal order, a referral, the first report or alert. */
  async caseLinks(caseId: number): Promise<{
    orderCase: boolean;
    referralCase: boolean;
    flag: { kind: string; source: string } | undefined;
  }> {
    const [order, referral, flag] = await Promise.all([
      this.db.selectFrom('removal_orders').select('id').where('case_id', '=', caseId).executeTakeFirst(),
      this.db.selectFrom('referrals').select('id').where('case_id', '=', caseId).executeTakeFirst(),
      this.db
        .selectFrom('reports')
        .select(['kind', 'source'])
        .where('case_id', '=', caseId)
        .orderBy('id')
        .limit(1)
        .executeTakeFirst(),
    ]);
    return { orderCase: !!order, referralCase: !!referral, flag };
  }

  /**
   * Inserts fact rows (a decision that has one already is skipped) and adds the inserted ones to the daily
   * roll-up in the same transaction, so that the roll-up always counts exactly the fact rows.
   */
  async insertFacts(rows: Insertable<DecisionFactsTable>[]): Promise<void> {
    await withTx(this.db, async (tx) => {
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        const inserted = new Set(
          (
            await tx
              .insertInto('decision_facts')
              .values(chunk)
              .onConflict((oc) => oc.column('decision_id').doNothing())
              .returning('decision_id')
              .execute()
          ).map((r) => Number(r.decision_id)),
        );
        const days = new Map<string, Insertable<DecisionFactDaysTable> & { n: number }>();
        for (const f of chunk) {
          if (!inserted.has(Number(f.decision_id))) continue;
          const row = {
            org_id: f.org_id,
            day: f.created_at.slice(0, 10),
            decision: f.decision,
            automated: f.automated,
            source: f.source,
            territory: f.territory,
            format: f.format,
            labels: f.labels,
            banks: f.banks,
            n: 0,
          };
          const key = JSON.stringify(Object.values(row));
          const group = days.get(key) ?? row;
          group.n++;
          days.set(key, group);
        }
        for (const group of days.values())
          await tx
            .insertInto('decision_fact_days')
            .values(group)
            .onConflict((oc) =>
              oc.columns(DAY_KEY).doUpdateSet((eb) => ({
                n: eb('decision_fact_days.n', '+', eb.ref('excluded.n')),
              })),
            )
            .execute();
      }
    });
  }

  /**
   * Decisions of the period counted by everything the reports break them down by. Whole UTC days come from the
   * daily roll-up; the parts of a day at either end of the period from the fact rows themselves.
   */
  async factGroups(orgId: number, period: Period): Promise<FactGroup[]> {
    const split = splitPeriod(period);
    const groups = new Map<string, FactGroup>();
    const add = (r: FactGroup) => {
      const key = JSON.stringify([
        r.decision,
        r.automated,
        r.source,
        r.territory,
        r.format,
        r.labels,
        r.banks,
      ]);
      const found = groups.get(key);
      if (found) found.n += r.n;
      else groups.set(key, { ...r });
    };
    if (split.days) {
      const rows = await this.db
        .selectFrom('decision_fact_days')
        .select(['decision', 'automated', 'source', 'territory', 'format', 'labels', 'banks'])
        .select((eb) => eb.fn.sum<number>('n').as('n'))
        .where('org_id', '=', orgId)
        .where('day', '>=', split.days.from)
        .where('day', '<', split.days.to)
        .groupBy(['decision', 'automated', 'source', 'territory', 'format', 'labels', 'banks'])
        .execute();
      for (const r of rows) add({ ...r, automated: Number(r.automated), n: Number(r.n) });
    }
    for (const edge of split.edges) (await this.factGroupsFromFacts(orgId, edge)).forEach(add);
    return [...groups.values()];
  }

  /** The same counts straight from the fact rows (what the roll-up sums; the edges of a period use it). */
  async factGroupsFromFacts(orgId: number, period: Period): Promise<FactGroup[]> {
    const rows = await this.db
      .selectFrom('decision_facts')
      .select(['decision', 'automated', 'source', 'territory', 'format', 'labels', 'banks'])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('org_id', '=', orgId)
      .where('created_at', '>=', period.from)
      .where('created_at', '<', period.to)
      .groupBy(['decision', 'automated', 'source', 'territory', 'format', 'labels', 'banks'])
      .execute();
    return rows.map((r) => ({ ...r, automated: Number(r.automated), n: Number(r.n) }));
  }

  /** Seconds to action of the period's actioned decisions, as a histogram (value, count), ascending. */
  async actionSeconds(orgId: number, period: Period): Promise<{ seconds: number; n: number }[]> {
    const rows = await this.db
      .selectFrom('decision_facts')
      .select('seconds')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('org_id', '=', orgId)
      .where('created_at', '>=', period.from)
      .where('created_at', '<', period.to)
      .where('decision', 'in', ['remove', 'restrict', 'label'])
      .groupBy('seconds')
      .orderBy('seconds')
      .execute();
    return rows.map((r) => ({ seconds: Number(r.seconds), n: Number(r.n) }));
  }

  /** The first report or alert on each of the organisation's cases (what flagged it). */
  async firstFlags(orgId: number): Promise<Map<number, { kind: string; source: string }>> {
    const rows = await this.db
      .selectFrom('reports')
      .select(['case_id', 'kind', 'source', 'id'])
      .where('org_id', '=', orgId)
      .orderBy('id')
      .execute();
    const flags = new Map<number, { kind: string; source: string }>();
    for (const r of rows) if (!flags.has(r.case_id)) flags.set(r.case_id, { kind: r.kind, source: r.source });
    return flags;
  }

  async orderCases(platformOrgId: number): Promise<Set<number>> {
    const rows = await this.db
      .selectFrom('removal_orders')
      .select('case_id')
      .where('platform_org_id', '=', platformOrgId)
      .execute();
    return new Set(rows.flatMap((r) => (r.case_id === null ? [] : [r.case_id])));
  }

  async referralCases(platformOrgId: number): Promise<Set<number>> {
    const rows = await this.db
      .selectFrom('referrals')
      .select('case_id')
      .where('platform_org_id', '=', platformOrgId)
      .execute();
    return new Set(rows.flatMap((r) => (r.case_id === null ? [] : [r.case_id])));
  }

  async orders(side: 'platform_org_id' | 'authority_org_id', orgId: number, period: Period) {
    return this.db
      .selectFrom('removal_orders')
      .selectAll()
      .where(side, '=', orgId)
      .where('received_at', '>=', period.from)
      .where('received_at', '<', period.to)
      .orderBy('id')
      .execute();
  }

  async referrals(side: 'platform_org_id' | 'authority_org_id', orgId: number, period: Period) {
    return this.db
      .selectFrom('referrals')
      .selectAll()
      .where(side, '=', orgId)
      .where('received_at', '>=', period.from)
      .where('received_at', '<', period.to)
      .orderBy('id')
      .execute();
  }

  async appeals(orgIds: number[], period: Period) {
    if (orgIds.length === 0) return [];
    return this.db
      .selectFrom('appeals')
      .selectAll()
      .where('org_id', 'in', orgIds)
      .where('filed_at', '>=', period.from)
      .where('filed_at', '<', period.to)
      .orderBy('id')
      .execute();
  }

  async bankReversals(filter: { orgId?: number; bankOrgId?: number }, period: Period) {
    let query = this.db
      .selectFrom('bank_reversals')
      .selectAll()
      .where('created_at', '>=', period.from)
      .where('created_at', '<', period.to);
    if (filter.orgId !== undefined) query = query.where('org_id', '=', filter.orgId);
    if (filter.bankOrgId !== undefined) query = query.where('bank_org_id', '=', filter.bankOrgId);
    return query.execute();
  }

  async banks(ids: number[]) {
    if (ids.length === 0) return [];
    return this.db.selectFrom('banks').select(['id', 'name', 'org_id']).where('id', 'in', ids).execute();
  }

  /** Entries the organisation contributed to banks it shares or that others own, in the period. */
  async contributions(orgId: number, period: Period): Promise<{ own: number; others: number }> {
    const rows = await this.db
      .selectFrom('entries')
      .select(['org_id'])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('contributor_org_id', '=', orgId)
      .where('created_at', '>=', period.from)
      .where('created_at', '<', period.to)
      .groupBy('org_id')
      .execute();
    let own = 0;
    let others = 0;
    for (const r of rows) {
      if (r.org_id === orgId) own += Number(r.n);
      else others += Number(r.n);
    }
    return { own, others };
  }

  async organisationNames(ids: number[]): Promise<Map<number, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('organisations')
      .select(['id', 'name'])
      .where('id', 'in', ids)
      .execute();
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  /** Organisations that take part in a hub: those its banks are shared with. */
  async hubMembers(hubOrgId: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('bank_shares as s')
      .innerJoin('banks as b', 'b.id', 's.bank_id')
      .select('s.org_id')
      .distinct()
      .where('b.org_id', '=', hubOrgId)
      .execute();
    return rows.map((r) => r.org_id).filter((id) => id !== hubOrgId);
  }

  async decisionCounts(
    orgIds: number[],
    period: Period,
  ): Promise<{ decisions: number; actioned: number; automated: number }> {
    if (orgIds.length === 0) return { decisions: 0, actioned: 0, automated: 0 };
    const rows = await this.db
      .selectFrom('decisions')
      .select(['decision', 'automated'])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('org_id', 'in', orgIds)
      .where('created_at', '>=', period.from)
      .where('created_at', '<', period.to)
      .groupBy(['decision', 'automated'])
      .execute();
    const result = { decisions: 0, actioned: 0, automated: 0 };
    for (const r of rows) {
      const n = Number(r.n);
      result.decisions += n;
      if (['remove', 'restrict', 'label'].includes(r.decision)) {
        result.actioned += n;
        if (r.automated === 1) result.automated += n;
      }
    }
    return result;
  }

  async ordersFor(orgIds: number[], period: Period) {
    if (orgIds.length === 0) return [];
    return this.db
      .selectFrom('removal_orders')
      .select(['id', 'status', 'late', 'actioned_at'])
      .where('platform_org_id', 'in', orgIds)
      .where('received_at', '>=', period.from)
      .where('received_at', '<', period.to)
      .execute();
  }
}
