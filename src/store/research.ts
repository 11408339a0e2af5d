/**
 * SQL for research access: datasets and their events (private data and mock twin), researchers and their
 * accreditation, projects, budgets, requests and the privacy ledger. Rows are mapped to plain objects here; the
 * rules live in src/research/service.ts.
 */
import { CompiledQuery, sql } from 'kysely';
import { NotFoundError } from '../core/errors.js';
import { nowIso, type Db } from './database.js';
import type {
  ResearchBudgetsTable,
  ResearchDatasetsTable,
  ResearchRequestsTable,
  ResearchResearchersTable,
} from './schema.js';
import type { Selectable } from 'kysely';

export type Twin = 'private' | 'mock';
const twinCode = (twin: Twin) => (twin === 'private' ? 0 : 1);

export interface DatasetRecord {
  id: number;
  orgId: number;
  name: string;
  description: string;
  /** JSON-decoded metadata (public keys, bounds, auto-approval policy); validated by the research service. */
  meta: unknown;
  privacyUnit: string;
  privateRows: number;
  mockRows: number;
  privateVersion: string;
  mockVersion: string;
  createdAt: string;
}

export interface ResearcherRecord {
  id: number;
  orgId: number;
  name: string;
  email: string;
  principal: string;
  accreditedBy: string;
  accreditedUntil: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface ProjectRecord {
  id: number;
  researcherId: number;
  title: string;
  purpose: string;
  createdAt: string;
}

export interface BudgetRecord {
  researcherId: number;
  datasetId: number;
  rho: number;
  delta: number;
  rhoSpent: number;
  deltaSpent: number;
  updatedAt: string;
}

export type RequestStatus = 'pending' | 'approved' | 'denied' | 'released' | 'failed';

export interface RequestRecord {
  id: number;
  datasetId: number;
  researcherId: number;
  projectId: number | null;
  plan: unknown;
  planHash: string;
  rho: number;
  delta: number;
  status: RequestStatus;
  reason: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  result: unknown;
  releasedAt: string | null;
  createdAt: string;
}

export interface LedgerEntry {
  id: number;
  researcherId: number;
  datasetId: number;
  requestId: number;
  rho: number;
  delta: number;
  createdAt: string;
}

/** One stored event, as in the exposure-event schema. */
export interface StoredEvent {
  user_id: string;
  session_id: string;
  item_id: string;
  creator_id: string;
  category: string;
  arm: string;
  surface: string;
  country: string;
  ts: number;
  position: number;
  dwell_ms: number;
  engaged: number;
  linger: number;
}

const toDataset = (r: Selectable<ResearchDatasetsTable>): DatasetRecord => ({
  id: Number(r.id),
  orgId: Number(r.org_id),
  name: r.name,
  description: r.description,
  meta: JSON.parse(r.meta) as unknown,
  privacyUnit: r.privacy_unit,
  privateRows: Number(r.private_rows),
  mockRows: Number(r.mock_rows),
  privateVersion: r.private_version,
  mockVersion: r.mock_version,
  createdAt: r.created_at,
});

const toResearcher = (r: Selectable<ResearchResearchersTable>): ResearcherRecord => ({
  id: Number(r.id),
  orgId: Number(r.org_id),
  name: r.name,
  email: r.email,
  principal: r.principal,
  accreditedBy: r.accredited_by,
  accreditedUntil: r.accredited_until,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

const toBudget = (r: Selectable<ResearchBudgetsTable>): BudgetRecord => ({
  researcherId: Number(r.researcher_id),
  datasetId: Number(r.dataset_id),
  rho: Number(r.rho),
  delta: Number(r.delta),
  rhoSpent: Number(r.rho_spent),
  deltaSpent: Number(r.delta_spent),
  updatedAt: r.updated_at,
});

const toRequest = (r: Selectable<ResearchRequestsTable>): RequestRecord => ({
  id: Number(r.id),
  datasetId: Number(r.dataset_id),
  researcherId: Number(r.researcher_id),
  projectId: r.project_id === null ? null : Number(r.project_id),
  plan: JSON.parse(r.plan) as unknown,
  planHash: r.plan_hash,
  rho: Number(r.rho),
  delta: Number(r.delta),
  status: r.status as RequestStatus,
  reason: r.reason,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
  result: r.result === null ? null : (JSON.parse(r.result) as unknown),
  releasedAt: r.released_at,
  createdAt: r.created_at,
});

/** Rows per INSERT: 16 columns × 500 stays under both dialects' parameter limits. */
const INSERT_BATCH = 500;

const EVENT_COLUMNS = [
  'dataset_id',
  'twin',
  'seq',
  'user_id',
  'session_id',
  'item_id',
  'creator_id',
  'category',
  'arm',
  'surface',
  'country',
  'ts',
  'position',
  'dwell_ms',
  'engaged',
  'linger',
];
const INSERT_SQL = new Map<string, string>();

export class ResearchStore {
  constructor(
    private readonly db: Db,
    /** Parameter style of the dialect: `?` (SQLite) or `$1` (PostgreSQL). */
    private readonly placeholders: 'qmark' | 'dollar' = 'qmark',
  ) {}

  // ---- datasets and events

  async createDataset(
    orgId: number,
    input: { name: string; description: string; meta: unknown; privacyUnit: string },
  ): Promise<DatasetRecord> {
    const now = nowIso();
    const row = await this.db
      .insertInto('research_datasets')
      .values({
        org_id: orgId,
        name: input.name,
        description: input.description,
        meta: JSON.stringify(input.meta),
        privacy_unit: input.privacyUnit,
        private_version: now,
        mock_version: now,
        created_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toDataset(row);
  }

  async findDatasetByName(orgId: number, name: string): Promise<DatasetRecord | undefined> {
    const row = await this.db
      .selectFrom('research_datasets')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toDataset(row);
  }

  async getDataset(id: number): Promise<DatasetRecord> {
    const row = await this.db
      .selectFrom('research_datasets')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row)
      throw new NotFoundError(`research dataset ${id} not found`, 'KAI_ERR_RESEARCH_DATASET_NOT_FOUND');
    return toDataset(row);
  }

  async listDatasets(orgId: number): Promise<DatasetRecord[]> {
    const rows = await this.db
      .selectFrom('research_datasets')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('id')
      .execute();
    return rows.map(toDataset);
  }

  async listDatasetsById(ids: number[]): Promise<DatasetRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('research_datasets')
      .selectAll()
      .where('id', 'in', ids)
      .orderBy('id')
      .execute();
    return rows.map(toDataset);
  }

  async updateDatasetMeta(id: number, meta: unknown): Promise<void> {
    await this.db
      .updateTable('research_datasets')
      .set({ meta: JSON.stringify(meta) })
      .where('id', '=', id)
      .execute();
  }

  /** Deletes a twin's events; call inside the transaction that loads the new ones. */
  async clearEvents(datasetId: number, twin: Twin): Promise<void> {
    await this.db
      .deleteFrom('research_events')
      .where('dataset_id', '=', datasetId)
      .where('twin', '=', twinCode(twin))
      .execute();
  }

  /**
   * Inserts rows numbered from `firstSeq`. The statement text is built once per batch size and sent as a compiled
   * query: the query builder's per-call compilation of 7,000 parameters dominated bulk loads.
   */
  async insertEvents(
    datasetId: number,
    twin: Twin,
    firstSeq: number,
    rows: readonly StoredEvent[],
  ): Promise<void> {
    const code = twinCode(twin);
    for (let start = 0; start < rows.length; start += INSERT_BATCH) {
      const chunk = rows.slice(start, start + INSERT_BATCH);
      const params: unknown[] = [];
      for (let i = 0; i < chunk.length; i++) {
        const r = chunk[i];
        params.push(
          datasetId,
          code,
          firstSeq + start + i,
          r.user_id,
          r.session_id,
          r.item_id,
          r.creator_id,
          r.category,
          r.arm,
          r.surface,
          r.country,
          r.ts,
          r.position,
          r.dwell_ms,
          r.engaged,
          r.linger,
        );
      }
      await this.db.executeQuery(CompiledQuery.raw(this.insertSql(chunk.length), params));
    }
  }

  private insertSql(rows: number): string {
    const key = `${this.placeholders}:${rows}`;
    let text = INSERT_SQL.get(key);
    if (!text) {
      let n = 0;
      const tuple = () =>
        `(${EVENT_COLUMNS.map(() => (this.placeholders === 'dollar' ? `$${++n}` : '?')).join(',')})`;
      text = `insert into research_events (${EVENT_COLUMNS.join(',')}) values ${Array.from({ length: rows }, tuple).join(',')}`;
      INSERT_SQL.set(key, text);
    }
    return text;
  }

  /** Records a finished load: the row count and a new version (which invalidates cached columns). */
  async finishLoad(datasetId: number, twin: Twin, rows: number): Promise<string> {
    const version = `${nowIso()}#${Math.random().toString(36).slice(2, 10)}`;
    await this.db
      .updateTable('research_datasets')
      .set(
        twin === 'private'
          ? { private_rows: rows, private_version: version }
          : { mock_rows: rows, mock_version: version },
      )
      .where('id', '=', datasetId)
      .execute();
    return version;
  }

  /** Reads a twin's events in seq order, a page at a time (keyset pagination). */
  async *streamEvents(datasetId: number, twin: Twin, pageSize = 50_000): AsyncGenerator<StoredEvent[]> {
    let after = -1;
    const code = twinCode(twin);
    for (;;) {
      const rows = await this.db
        .selectFrom('research_events')
        .select([
          'seq',
          'user_id',
          'session_id',
          'item_id',
          'creator_id',
          'category',
          'arm',
          'surface',
          'country',
          'ts',
          'position',
          'dwell_ms',
          'engaged',
          'linger',
        ])
        .where('dataset_id', '=', datasetId)
        .where('twin', '=', code)
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(pageSize)
        .execute();
      if (rows.length === 0) return;
      after = Number(rows[rows.length - 1].seq);
      yield rows.map(({ seq: _seq, ...r }) => ({ ...r, ts: Number(r.ts) }));
      if (rows.length < pageSize) return;
    }
  }

  /** Count of rows per category straight in SQL (used by the benchmark to compare with the columnar path). */
  async countByCategorySql(
    datasetId: number,
    twin: Twin,
    maxRowsPerUser: number,
  ): Promise<Array<{ category: string; n: number }>> {
    const rows = await sql<{ category: string; n: number }>`
      select category, count(*) as n from (
        select category, row_number() over (partition by user_id order by seq) as k
        from research_events where dataset_id = ${datasetId} and twin = ${twinCode(twin)}
      ) t where k <= ${maxRowsPerUser} group by category order by category`.execute(this.db);
    return rows.rows.map((r) => ({ category: r.category, n: Number(r.n) }));
  }

  // ---- researchers and projects

  async createResearcher(
    orgId: number,
    input: { name: string; email: string; principal: string; accreditedBy: string; accreditedUntil: string },
  ): Promise<ResearcherRecord> {
    const row = await this.db
      .insertInto('research_researchers')
      .values({
        org_id: orgId,
        name: input.name,
        email: input.email,
        principal: input.principal,
        accredited_by: input.accreditedBy,
        accredited_until: input.accreditedUntil,
        created_at: nowIso(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toResearcher(row);
  }

  async updateAccreditation(id: number, accreditedBy: string, accreditedUntil: string): Promise<void> {
    await this.db
      .updateTable('research_researchers')
      .set({ accredited_by: accreditedBy, accredited_until: accreditedUntil, revoked_at: null })
      .where('id', '=', id)
      .execute();
  }

  async revokeResearcher(id: number): Promise<void> {
    await this.db
      .updateTable('research_researchers')
      .set({ revoked_at: nowIso() })
      .where('id', '=', id)
      .execute();
  }

  async getResearcher(id: number): Promise<ResearcherRecord> {
    const row = await this.db
      .selectFrom('research_researchers')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`researcher ${id} not found`, 'KAI_ERR_RESEARCHER_NOT_FOUND');
    return toResearcher(row);
  }

  async findResearcher(orgId: number, principal: string): Promise<ResearcherRecord | undefined> {
    const row = await this.db
      .selectFrom('research_researchers')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('principal', '=', principal)
      .executeTakeFirst();
    return row && toResearcher(row);
  }

  /** Every registration of a principal (one per data owner that accredited them). */
  async researchersByPrincipal(principal: string): Promise<ResearcherRecord[]> {
    const rows = await this.db
      .selectFrom('research_researchers')
      .selectAll()
      .where('principal', '=', principal)
      .orderBy('id')
      .execute();
    return rows.map(toResearcher);
  }

  async listResearchers(orgId: number): Promise<ResearcherRecord[]> {
    const rows = await this.db
      .selectFrom('research_researchers')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('id')
      .execute();
    return rows.map(toResearcher);
  }

  async createProject(researcherId: number, title: string, purpose: string): Promise<ProjectRecord> {
    const row = await this.db
      .insertInto('research_projects')
      .values({ researcher_id: researcherId, title, purpose, created_at: nowIso() })
      .returningAll()
      .executeTakeFirstOrThrow();
    return {
      id: Number(row.id),
      researcherId: Number(row.researcher_id),
      title: row.title,
      purpose: row.purpose,
      createdAt: row.created_at,
    };
  }

  async getProject(id: number): Promise<ProjectRecord | undefined> {
    const row = await this.db
      .selectFrom('research_projects')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return (
      row && {
        id: Number(row.id),
        researcherId: Number(row.researcher_id),
        title: row.title,
        purpose: row.purpose,
        createdAt: row.created_at,
      }
    );
  }

  async listProjects(researcherIds: number[]): Promise<ProjectRecord[]> {
    if (researcherIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('research_projects')
      .selectAll()
      .where('researcher_id', 'in', researcherIds)
      .orderBy('id')
      .execute();
    return rows.map((row) => ({
      id: Number(row.id),
      researcherId: Number(row.researcher_id),
      title: row.title,
      purpose: row.purpose,
      createdAt: row.created_at,
    }));
  }

  // ---- budgets and the ledger

  /** Sets the total budget (what was spent stays spent). */
  async setBudget(
    researcherId: number,
    datasetId: number,
    rho: number,
    delta: number,
  ): Promise<BudgetRecord> {
    const now = nowIso();
    const updated = await this.db
      .updateTable('research_budgets')
      .set({ rho, delta, updated_at: now })
      .where('researcher_id', '=', researcherId)
      .where('dataset_id', '=', datasetId)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) {
      await this.db
        .insertInto('research_budgets')
        .values({ researcher_id: researcherId, dataset_id: datasetId, rho, delta, updated_at: now })
        .execute();
    }
    return (await this.getBudget(researcherId, datasetId))!;
  }

  async getBudget(researcherId: number, datasetId: number): Promise<BudgetRecord | undefined> {
    const row = await this.db
      .selectFrom('research_budgets')
      .selectAll()
      .where('researcher_id', '=', researcherId)
      .where('dataset_id', '=', datasetId)
      .executeTakeFirst();
    return row && toBudget(row);
  }

  async budgetsOfResearchers(researcherIds: number[]): Promise<BudgetRecord[]> {
    if (researcherIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('research_budgets')
      .selectAll()
      .where('researcher_id', 'in', researcherIds)
      .execute();
    return rows.map(toBudget);
  }

  async budgetsOfDataset(datasetId: number): Promise<BudgetRecord[]> {
    const rows = await this.db
      .selectFrom('research_budgets')
      .selectAll()
      .where('dataset_id', '=', datasetId)
      .execute();
    return rows.map(toBudget);
  }

  /**
   * Charges a request to the budget if, and only if, it fits: one conditional UPDATE, so concurrent charges
   * (PostgreSQL row lock, SQLite's single writer) can never overspend. Returns false when it does not fit.
   */
  async charge(
    researcherId: number,
    datasetId: number,
    requestId: number,
    rho: number,
    delta: number,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('research_budgets')
      .set({
        rho_spent: sql`rho_spent + ${rho}`,
        delta_spent: sql`delta_spent + ${delta}`,
        updated_at: nowIso(),
      })
      .where('researcher_id', '=', researcherId)
      .where('dataset_id', '=', datasetId)
      // A relative slack of 1e-12 absorbs float addition error when a budget is spent exactly.
      .where(sql<boolean>`rho_spent + ${rho} <= rho * (1 + 1e-12)`)
      .where(sql<boolean>`delta_spent + ${delta} <= delta * (1 + 1e-12)`)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return false;
    await this.db
      .insertInto('research_ledger')
      .values({
        researcher_id: researcherId,
        dataset_id: datasetId,
        request_id: requestId,
        rho,
        delta,
        created_at: nowIso(),
      })
      .execute();
    return true;
  }

  async ledger(researcherId: number, datasetId: number): Promise<LedgerEntry[]> {
    const rows = await this.db
      .selectFrom('research_ledger')
      .selectAll()
      .where('researcher_id', '=', researcherId)
      .where('dataset_id', '=', datasetId)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      researcherId: Number(r.researcher_id),
      datasetId: Number(r.dataset_id),
      requestId: Number(r.request_id),
      rho: Number(r.rho),
      delta: Number(r.delta),
      createdAt: r.created_at,
    }));
  }

  // ---- requests

  async createRequest(input: {
    datasetId: number;
    researcherId: number;
    projectId: number | null;
    plan: unknown;
    planHash: string;
    rho: number;
    delta: number;
    status: RequestStatus;
    reason?: string | null;
  }): Promise<RequestRecord> {
    const row = await this.db
      .insertInto('research_requests')
      .values({
        dataset_id: input.datasetId,
        researcher_id: input.researcherId,
        project_id: input.projectId,
        plan: JSON.stringify(input.plan),
        plan_hash: input.planHash,
        rho: input.rho,
        delta: input.delta,
        status: input.status,
        reason: input.reason ?? null,
        created_at: nowIso(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRequest(row);
  }

  async getRequest(id: number): Promise<RequestRecord> {
    const row = await this.db
      .selectFrom('research_requests')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row)
      throw new NotFoundError(`research request ${id} not found`, 'KAI_ERR_RESEARCH_REQUEST_NOT_FOUND');
    return toRequest(row);
  }

  async listRequests(filter: {
    datasetIds?: number[];
    researcherIds?: number[];
    status?: RequestStatus;
  }): Promise<RequestRecord[]> {
    let q = this.db.selectFrom('research_requests').selectAll();
    if (filter.datasetIds)
      q = q.where('dataset_id', 'in', filter.datasetIds.length ? filter.datasetIds : [-1]);
    if (filter.researcherIds)
      q = q.where('researcher_id', 'in', filter.researcherIds.length ? filter.researcherIds : [-1]);
    if (filter.status) q = q.where('status', '=', filter.status);
    const rows = await q.orderBy('id', 'desc').limit(1000).execute();
    return rows.map(toRequest);
  }

  /** Moves a request from one status to another; false if it was not in `from` any more (someone else moved it). */
  async transition(
    id: number,
    from: RequestStatus[],
    to: RequestStatus,
    fields: { reason?: string | null; decidedBy?: string; result?: unknown } = {},
  ): Promise<boolean> {
    const now = nowIso();
    const result = await this.db
      .updateTable('research_requests')
      .set({
        status: to,
        ...(fields.reason !== undefined ? { reason: fields.reason } : {}),
        ...(fields.decidedBy !== undefined ? { decided_by: fields.decidedBy, decided_at: now } : {}),
        ...(fields.result !== undefined ? { result: JSON.stringify(fields.result), released_at: now } : {}),
      })
      .where('id', '=', id)
      .where('status', 'in', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
