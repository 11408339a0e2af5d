/** Decisions on cases: who decided what, on which ground, and whether automatically (see review/decisions.ts). */
import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import type { DecisionsTable } from './schema.js';

export type DecisionRow = Selectable<DecisionsTable>;

export interface NewDecision {
  caseId: number;
  orgId: number;
  decision: string;
  groundType: string;
  ground: string;
  reason: string;
  automated: boolean;
  decidedBy: string;
  createdAt: string;
}

export class DecisionStore {
  constructor(private readonly db: Db) {}

  /** The case's decisions, oldest first. */
  async ofCase(orgId: number, caseId: number): Promise<DecisionRow[]> {
    return this.db
      .selectFrom('decisions')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('case_id', '=', caseId)
      .orderBy('id')
      .execute();
  }

  /** Records a decision; answers its id. */
  async insert(d: NewDecision): Promise<number> {
    const row = await this.db
      .insertInto('decisions')
      .values({
        case_id: d.caseId,
        org_id: d.orgId,
        decision: d.decision,
        ground_type: d.groundType,
        ground: d.ground,
        reason: d.reason,
        automated: d.automated ? 1 : 0,
        decided_by: d.decidedBy,
        created_at: d.createdAt,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** The last decision (`remove`, `no-violation`…) of each of these cases that has one. */
  async latestOf(orgId: number, caseIds: readonly number[]): Promise<Map<number, string>> {
    const rows = await this.db
      .selectFrom('decisions')
      .select(['case_id', 'decision', 'id'])
      .where('org_id', '=', orgId)
      .where('case_id', 'in', caseIds)
      .orderBy('id')
      .execute();
    return new Map(rows.map((d) => [d.case_id, d.decision]));
  }
}
