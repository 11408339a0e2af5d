/** Statements of reasons (Art. 17 DSA), one a decision that acts on content, stored as their JSON body. */
import type { Db } from './database.js';

export interface NewStatement {
  id: string;
  orgId: number;
  caseId: number;
  decisionId: number;
  actionId: string;
  body: Record<string, unknown>;
  createdAt: string;
}

/** A place in the order statements are exported in: creation time, then id. */
export interface StatementKey {
  createdAt: string;
  id: string;
}

export class StatementStore {
  constructor(private readonly db: Db) {}

  async insert(s: NewStatement): Promise<void> {
    await this.db
      .insertInto('statements')
      .values({
        id: s.id,
        org_id: s.orgId,
        case_id: s.caseId,
        decision_id: s.decisionId,
        action_id: s.actionId,
        body: JSON.stringify(s.body),
        created_at: s.createdAt,
      })
      .execute();
  }

  /** Up to `limit` statements of the organisation after `after`, in creation order (then id). */
  async after(
    orgId: number,
    after: StatementKey,
    limit: number,
  ): Promise<{ key: StatementKey; body: Record<string, unknown> }[]> {
    const rows = await this.db
      .selectFrom('statements')
      .select(['id', 'body', 'created_at'])
      .where('org_id', '=', orgId)
      .where((eb) =>
        eb.or([
          eb('created_at', '>', after.createdAt),
          eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)]),
        ]),
      )
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      key: { createdAt: r.created_at, id: r.id },
      body: JSON.parse(r.body) as Record<string, unknown>,
    }));
  }

  /** The statement's body, if the organisation has one with this id. */
  async body(orgId: number, id: string): Promise<Record<string, unknown> | undefined> {
    const row = await this.db
      .selectFrom('statements')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && (JSON.parse(row.body) as Record<string, unknown>);
  }
}
