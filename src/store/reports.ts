/** User reports and alerts about content, each attached to a case (see review/cases.ts). */
import { nowIso, type Db } from './database.js';

export interface NewReport {
  orgId: number;
  caseId: number;
  kind: string;
  externalId: string | null;
  url: string | null;
  source: string;
  category: string | null;
  detail: Record<string, unknown>;
}

/** A report as the case page shows it. */
export interface ReportView {
  id: number;
  kind: string;
  external_id: string | null;
  url: string | null;
  source: string;
  category: string | null;
  detail: unknown;
  created_at: string;
}

export class ReportStore {
  constructor(private readonly db: Db) {}

  /** Records a report; answers its id. */
  async insert(report: NewReport): Promise<number> {
    const row = await this.db
      .insertInto('reports')
      .values({
        org_id: report.orgId,
        case_id: report.caseId,
        kind: report.kind,
        external_id: report.externalId,
        url: report.url,
        source: report.source,
        category: report.category,
        detail: JSON.stringify(report.detail),
        created_at: nowIso(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** The case's reports, oldest first. */
  async ofCase(orgId: number, caseId: number): Promise<ReportView[]> {
    const rows = await this.db
      .selectFrom('reports')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('case_id', '=', caseId)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      external_id: r.external_id,
      url: r.url,
      source: r.source,
      category: r.category,
      detail: JSON.parse(r.detail) as unknown,
      created_at: r.created_at,
    }));
  }

  /** The kinds of report each of these cases has (each pair once, by case then kind). */
  async kindsOf(orgId: number, caseIds: readonly number[]): Promise<{ caseId: number; kind: string }[]> {
    const rows = await this.db
      .selectFrom('reports')
      .select(['case_id', 'kind'])
      .distinct()
      .where('org_id', '=', orgId)
      .where('case_id', 'in', caseIds)
      .orderBy('case_id')
      .orderBy('kind')
      .execute();
    return rows.map((r) => ({ caseId: r.case_id, kind: r.kind }));
  }
}
