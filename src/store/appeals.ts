/** SQL for appeals and the reversals counted against bank entries. */
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from './database.js';
import type { AppealsTable } from './schema.js';

export type AppealRow = Selectable<AppealsTable>;

export interface AppealedDecision {
  decisionId: number;
  caseId: number;
  orgId: number;
  decision: string;
  automated: number;
  decidedBy: string;
  decidedAt: string;
  uploaderId: string | null;
  evidence: string;
}

export class AppealStore {
  constructor(private readonly db: Db) {}

  /** The content a case is about, as a restore action names it: its external id and its uploader. */
  async caseContent(caseId: number): Promise<{ external_id: string | null; uploader_id: string | null }> {
    return this.db
      .selectFrom('cases as c')
      .leftJoin('submissions as s', 's.id', 'c.submission_id')
      .select(['c.external_id', 's.uploader_id'])
      .where('c.id', '=', caseId)
      .executeTakeFirstOrThrow();
  }

  /** The decision with what an appeal needs: who uploaded the content, and the evidence that led to it. */
  async decision(orgId: number, decisionId: number): Promise<AppealedDecision | undefined> {
    const row = await this.db
      .selectFrom('decisions as d')
      .innerJoin('cases as c', 'c.id', 'd.case_id')
      .leftJoin('submissions as s', 's.id', 'c.submission_id')
      .select([
        'd.id as decisionId',
        'd.case_id as caseId',
        'd.org_id as orgId',
        'd.decision as decision',
        'd.automated as automated',
        'd.decided_by as decidedBy',
        'd.created_at as decidedAt',
        's.uploader_id as uploaderId',
        'c.evidence as evidence',
      ])
      .where('d.org_id', '=', orgId)
      .where('d.id', '=', decisionId)
      .executeTakeFirst();
    return row;
  }

  async decisionForStatement(orgId: number, statementId: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('statements')
      .select('decision_id')
      .where('org_id', '=', orgId)
      .where('id', '=', statementId)
      .executeTakeFirst();
    return row?.decision_id;
  }

  async openFor(decisionId: number): Promise<AppealRow | undefined> {
    return this.db
      .selectFrom('appeals')
      .selectAll()
      .where('decision_id', '=', decisionId)
      .where('status', '=', 'open')
      .executeTakeFirst();
  }

  async insert(row: Insertable<AppealsTable>): Promise<AppealRow> {
    return this.db.insertInto('appeals').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async get(orgId: number, id: number): Promise<AppealRow | undefined> {
    return this.db
      .selectFrom('appeals')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async update(id: number, changes: Updateable<AppealsTable>): Promise<AppealRow> {
    return this.db
      .updateTable('appeals')
      .set(changes)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async list(filter: {
    orgId: number;
    status?: string;
    overdueAt?: string;
    afterId: number;
    limit: number;
  }): Promise<AppealRow[]> {
    let query = this.db
      .selectFrom('appeals')
      .selectAll()
      .where('org_id', '=', filter.orgId)
      .where('id', '>', filter.afterId);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.overdueAt) query = query.where('status', '=', 'open').where('due_at', '<', filter.overdueAt);
    return query
      .orderBy('id')
      .limit(filter.limit + 1)
      .execute();
  }

  /** Marks the statement of reasons as corrected by the appeal (the original text stays, with the correction). */
  async correctStatement(decisionId: number, correction: Record<string, unknown>): Promise<string | null> {
    const row = await this.db
      .selectFrom('statements')
      .select(['id', 'body'])
      .where('decision_id', '=', decisionId)
      .executeTakeFirst();
    if (!row) return null;
    const body = JSON.parse(row.body) as Record<string, unknown>;
    await this.db
      .updateTable('statements')
      .set({ body: JSON.stringify({ ...body, correction }) })
      .where('id', '=', row.id)
      .execute();
    return row.id;
  }

  async recordBankReversal(row: {
    appealId: number;
    bankId: number;
    entryId: number;
    bankOrgId: number;
    orgId: number;
    at: string;
  }): Promise<void> {
    await this.db
      .insertInto('bank_reversals')
      .values({
        appeal_id: row.appealId,
        bank_id: row.bankId,
        entry_id: row.entryId,
        bank_org_id: row.bankOrgId,
        org_id: row.orgId,
        created_at: row.at,
      })
      .execute();
  }
}
