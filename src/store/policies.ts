/** An organisation's policies (which bank, which label, what action): the rows behind review/policies.ts. */
import { nowIso, type Db } from './database.js';

export interface PolicyRow {
  bankId: number | null;
  label: string | null;
  action: string;
}

export class PolicyStore {
  constructor(private readonly db: Db) {}

  async ofOrganisation(orgId: number): Promise<PolicyRow[]> {
    const rows = await this.db
      .selectFrom('policies')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ bankId: r.bank_id, label: r.label, action: r.action }));
  }

  /** Replaces the organisation's policies, in the caller's transaction. */
  async replace(orgId: number, policies: readonly PolicyRow[]): Promise<void> {
    await this.db.deleteFrom('policies').where('org_id', '=', orgId).execute();
    if (policies.length === 0) return;
    const now = nowIso();
    await this.db
      .insertInto('policies')
      .values(
        policies.map((p) => ({
          org_id: orgId,
          bank_id: p.bankId,
          label: p.label,
          action: p.action,
          created_at: now,
        })),
      )
      .execute();
  }
}
