/** SQL for the DSA transparency-database export: statements not yet submitted, and what was submitted. */
import type { Db } from './database.js';

export interface StatementForExport {
  id: string;
  caseId: number;
  body: string;
  createdAt: string;
  /** 'removal_order' (excluded, DSA Art. 17(5)), 'referral', 'report', 'alert', or null. */
  origin: string | null;
  flagSource: string | null;
}

export class DsaStore {
  constructor(private readonly db: Db) {}

  /** Statements created in [from, to) not yet accepted by the database, oldest first. */
  async pending(orgId: number, from: string, to: string, limit: number): Promise<StatementForExport[]> {
    const rows = await this.db
      .selectFrom('statements as st')
      .leftJoin('dsa_submissions as ds', 'ds.statement_id', 'st.id')
      .select(['st.id as id', 'st.case_id as caseId', 'st.body as body', 'st.created_at as createdAt'])
      .where('st.org_id', '=', orgId)
      .where('st.created_at', '>=', from)
      .where('st.created_at', '<', to)
      .where('ds.statement_id', 'is', null)
      .orderBy('st.created_at')
      .orderBy('st.id')
      .limit(limit)
      .execute();
    if (rows.length === 0) return [];
    const caseIds = [...new Set(rows.map((r) => r.caseId))];
    const [orders, referrals, flags] = await Promise.all([
      this.db.selectFrom('removal_orders').select('case_id').where('case_id', 'in', caseIds).execute(),
      this.db.selectFrom('referrals').select('case_id').where('case_id', 'in', caseIds).execute(),
      this.db
        .selectFrom('reports')
        .select(['case_id', 'kind', 'source', 'id'])
        .where('case_id', 'in', caseIds)
        .orderBy('id')
        .execute(),
    ]);
    const orderCases = new Set(orders.map((o) => o.case_id));
    const referralCases = new Set(referrals.map((o) => o.case_id));
    const firstFlag = new Map<number, { kind: string; source: string }>();
    for (const f of flags) if (!firstFlag.has(f.case_id)) firstFlag.set(f.case_id, f);
    return rows.map((r) => {
      const flag = firstFlag.get(r.caseId);
      return {
        ...r,
        origin: orderCases.has(r.caseId)
          ? 'removal_order'
          : referralCases.has(r.caseId)
            ? 'referral'
            : (flag?.kind ?? null),
        flagSource: flag?.source ?? null,
      };
    });
  }

  async mark(
    orgId: number,
    statementIds: string[],
    status: 'accepted' | 'excluded',
    at: string,
  ): Promise<void> {
    if (statementIds.length === 0) return;
    await this.db
      .insertInto('dsa_submissions')
      .values(statementIds.map((id) => ({ statement_id: id, org_id: orgId, status, submitted_at: at })))
      .onConflict((oc) => oc.column('statement_id').doNothing())
      .execute();
  }
}
