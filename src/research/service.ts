/**
 * Research access: the rules. Data owners (organisations with `research:own`) register datasets, load the private
 * data and a mock twin, accredit researchers and set their budgets. Researchers (`research:query`) run plans on the
 * mock for free, submit plans for the private data, and fetch released results. A plan that is within budget and of
 * a kind the owner auto-approves runs at once; others wait for the owner. The charge and the release commit in one
 * transaction, guarded by a conditional UPDATE, so a budget is never overspent and a result is never released twice.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Principal } from '../auth/roles.js';
import {
  ConflictError,
  ForbiddenError,
  KaitiakiError,
  NotFoundError,
  ValidationError,
} from '../core/errors.js';
import type { Db } from '../store/database.js';
import type { DialectName } from '../store/dialect.js';
import type { Transactions } from '../store/unit-of-work.js';
import {
  ResearchStore,
  type BudgetRecord,
  type DatasetRecord,
  type RequestRecord,
  type ResearcherRecord,
  type StoredEvent,
  type Twin,
} from '../store/research.js';
import {
  CATEGORICAL_COLUMNS,
  EventTableBuilder,
  NUMERIC_COLUMNS,
  type DatasetMeta,
  type EventRow,
  type EventTable,
} from './data/events.js';
import { DEMO_META, generateEvents } from './data/generator.js';
import { readEvents, type InputFormat } from './data/load.js';
import { cdpEpsilon } from './dp/accountant.js';
import { planCost, runPlan, type QueryResult } from './engine.js';
import { AGGREGATE_KINDS, validatePlan, type AggregateKind, type QueryPlan } from './plan.js';

/** What the owner lets run without review. */
export interface AutoApprovePolicy {
  kinds: AggregateKind[];
  /** Largest ρ one request may spend without review. */
  maxRho: number;
  /** Whether plans releasing private keys (partition selection) may run without review. */
  privateKeys: boolean;
}

export interface ResearchDatasetMeta extends DatasetMeta {
  autoApprove: AutoApprovePolicy;
}

export interface Dataset extends Omit<DatasetRecord, 'meta'> {
  meta: ResearchDatasetMeta;
}

/** δ at which budgets are also shown as ε. */
export const DISPLAY_DELTA = 1e-6;

export class BudgetError extends KaitiakiError {
  override name = 'BudgetError';
  constructor(message: string) {
    super('KAI_ERR_RESEARCH_BUDGET', message, 409, 1);
  }
}

export interface BudgetView extends BudgetRecord {
  rhoRemaining: number;
  /** The budget and the spent part as (ε, δ) via the tight zCDP conversion. */
  epsilon: { delta: number; budget: number; spent: number };
}

export function budgetView(b: BudgetRecord): BudgetView {
  const delta = b.delta > 0 ? b.delta : DISPLAY_DELTA;
  return {
    ...b,
    rhoRemaining: Math.max(0, b.rho - b.rhoSpent),
    epsilon: { delta, budget: cdpEpsilon(b.rho, delta), spent: cdpEpsilon(b.rhoSpent, delta) },
  };
}

const MAX_KEYS = 255;

function metaError(message: string): ValidationError {
  return new ValidationError(message, 'KAI_ERR_RESEARCH_DATASET');
}

/** Validates what a data owner declares about a dataset. */
export function validateMeta(input: {
  publicKeys?: unknown;
  bounds?: unknown;
  autoApprove?: unknown;
}): ResearchDatasetMeta {
  const keysIn = (input.publicKeys ?? {}) as Record<string, unknown>;
  if (typeof keysIn !== 'object' || Array.isArray(keysIn)) throw metaError('publicKeys must be an object');
  for (const k of Object.keys(keysIn)) {
    if (!(CATEGORICAL_COLUMNS as readonly string[]).includes(k))
      throw metaError(`publicKeys.${k}: not a categorical column (${CATEGORICAL_COLUMNS.join(', ')})`);
  }
  const publicKeys = Object.fromEntries(
    CATEGORICAL_COLUMNS.map((c) => {
      const v = keysIn[c] ?? DEMO_META.publicKeys[c];
      if (!Array.isArray(v) || v.length === 0 || v.length > MAX_KEYS)
        throw metaError(`publicKeys.${c} must list 1 to ${MAX_KEYS} values`);
      const values = v.map((x, i) => {
        if (typeof x !== 'string' || x.length === 0 || x.length > 100)
          throw metaError(`publicKeys.${c}[${i}] must be a string of 1 to 100 characters`);
        return x;
      });
      if (new Set(values).size !== values.length) throw metaError(`publicKeys.${c} lists a value twice`);
      return [c, values];
    }),
  ) as DatasetMeta['publicKeys'];
  const boundsIn = (input.bounds ?? {}) as Record<string, unknown>;
  const bounds: DatasetMeta['bounds'] = { ...DEMO_META.bounds };
  for (const [k, v] of Object.entries(boundsIn)) {
    if (!(NUMERIC_COLUMNS as readonly string[]).includes(k))
      throw metaError(`bounds.${k}: not a numeric column (${NUMERIC_COLUMNS.join(', ')})`);
    if (
      !Array.isArray(v) ||
      v.length !== 2 ||
      !v.every((x) => typeof x === 'number' && Number.isFinite(x)) ||
      !(v[0] < v[1])
    ) {
      throw metaError(`bounds.${k} must be [low, high] with low < high`);
    }
    bounds[k as keyof DatasetMeta['bounds']] = [v[0], v[1]];
  }
  const a = (input.autoApprove ?? {}) as Record<string, unknown>;
  const kinds = a.kinds === undefined ? [...AGGREGATE_KINDS] : a.kinds;
  if (
    !Array.isArray(kinds) ||
    !kinds.every((k) => (AGGREGATE_KINDS as readonly string[]).includes(k as string))
  ) {
    throw metaError(`autoApprove.kinds must list aggregate kinds (${AGGREGATE_KINDS.join(', ')})`);
  }
  const maxRho = a.maxRho === undefined ? 1 : a.maxRho;
  if (typeof maxRho !== 'number' || !(maxRho >= 0) || !Number.isFinite(maxRho))
    throw metaError('autoApprove.maxRho must be a number ≥ 0');
  return {
    publicKeys,
    bounds,
    autoApprove: { kinds: kinds as AggregateKind[], maxRho, privateKeys: a.privateKeys === true },
  };
}

export function planHash(plan: QueryPlan): string {
  return createHash('sha256').update(JSON.stringify(plan)).digest('hex');
}

/** Why a plan needs the owner's review, or null when it may run at once. */
export function reviewReason(policy: AutoApprovePolicy, plan: QueryPlan): string | null {
  if (!policy.kinds.includes(plan.aggregate.kind))
    return `${plan.aggregate.kind} plans are reviewed by the data owner`;
  const cost = planCost(plan);
  if (cost.rho > policy.maxRho)
    return `a request spending ρ = ${cost.rho} is above the automatic limit of ${policy.maxRho}`;
  if (plan.groupBy && 'privateKey' in plan.groupBy && !policy.privateKeys)
    return 'plans releasing private keys are reviewed by the data owner';
  return null;
}

export interface SubmitOutcome {
  request: RequestRecord;
  result: QueryResult | null;
}

/** Test hooks to simulate a crash at a point of the release. */
export interface ResearchFaults {
  /** Throws inside the release transaction, after the charge (the transaction rolls back). */
  beforeCommit?: () => void;
  /** Throws after the commit, before the result is returned (the process "dies" after releasing). */
  afterCommit?: () => void;
}

export class ResearchService {
  private readonly cache = new Map<string, { version: string; table: Promise<EventTable> }>();
  faults: ResearchFaults = {};

  constructor(
    private readonly db: Db,
    /** Every change is a unit of work: the change and its audit record commit together. */
    private readonly transactions: Transactions,
    private readonly dialect: DialectName = 'sqlite',
  ) {}

  private store(db: Db = this.db): ResearchStore {
    return new ResearchStore(db, this.dialect === 'postgres' ? 'dollar' : 'qmark');
  }

  private toDataset(record: DatasetRecord): Dataset {
    return { ...record, meta: record.meta as ResearchDatasetMeta };
  }

  // ---------------------------------------------------------------- data owner

  async createDataset(
    actor: Principal,
    input: {
      name: string;
      description?: string;
      publicKeys?: unknown;
      bounds?: unknown;
      autoApprove?: unknown;
    },
  ): Promise<Dataset> {
    const name = input.name.trim();
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(name))
      throw metaError('name must be 1 to 100 letters, digits, _ . or -');
    const meta = validateMeta(input);
    return this.transactions.run(actor.label, async (unit) => {
      const store = this.store(unit.db);
      if (await store.findDatasetByName(actor.orgId, name))
        throw new ConflictError(`a dataset named "${name}" exists already`);
      const created = await store.createDataset(actor.orgId, {
        name,
        description: input.description ?? '',
        meta,
        privacyUnit: 'user_id',
      });
      await unit.audit({
        orgId: actor.orgId,
        action: 'research.dataset.create',
        subjectType: 'research_dataset',
        subjectId: created.id,
        detail: { name, meta },
      });
      return this.toDataset(created);
    });
  }

  /** A dataset of the caller's organisation (data owners only see their own). */
  async ownDataset(actor: Principal, id: number): Promise<Dataset> {
    const dataset = this.toDataset(await this.store().getDataset(id));
    if (dataset.orgId !== actor.orgId)
      throw new NotFoundError(`research dataset ${id} not found`, 'KAI_ERR_RESEARCH_DATASET_NOT_FOUND');
    return dataset;
  }

  async listOwnDatasets(actor: Principal): Promise<Dataset[]> {
    return (await this.store().listDatasets(actor.orgId)).map((d) => this.toDataset(d));
  }

  async updatePolicy(actor: Principal, id: number, autoApprove: unknown): Promise<Dataset> {
    const dataset = await this.ownDataset(actor, id);
    const meta = validateMeta({ ...dataset.meta, autoApprove });
    await this.transactions.run(actor.label, async (unit) => {
      await this.store(unit.db).updateDatasetMeta(id, meta);
      await unit.audit({
        orgId: actor.orgId,
        action: 'research.dataset.policy',
        subjectType: 'research_dataset',
        subjectId: id,
        detail: { autoApprove: meta.autoApprove },
      });
    });
    return { ...dataset, meta };
  }

  /**
   * Replaces a twin's events with validated rows, in one transaction: a bad row (named by its line) leaves the
   * dataset as it was.
   */
  async loadEvents(
    actor: Principal,
    datasetId: number,
    twin: Twin,
    rows: AsyncIterable<EventRow> | Iterable<EventRow>,
    onProgress?: (rows: number) => void,
  ): Promise<{ rows: number }> {
    const dataset = await this.ownDataset(actor, datasetId);
    // The columns are built while loading, so the first query after a load does not read the rows back.
    const builder = new EventTableBuilder(dataset.meta);
    const { count, version } = await this.transactions.run(actor.label, async (unit) => {
      const store = this.store(unit.db);
      await store.clearEvents(datasetId, twin);
      let n = 0;
      let batch: StoredEvent[] = [];
      for await (const row of rows) {
        builder.add(row);
        batch.push(row);
        if (batch.length === 5000) {
          await store.insertEvents(datasetId, twin, n, batch);
          n += batch.length;
          batch = [];
          onProgress?.(n);
        }
      }
      await store.insertEvents(datasetId, twin, n, batch);
      n += batch.length;
      const loaded = await store.finishLoad(datasetId, twin, n);
      await unit.audit({
        orgId: actor.orgId,
        action: 'research.dataset.load',
        subjectType: 'research_dataset',
        subjectId: datasetId,
        detail: { twin, rows: n, name: dataset.name },
      });
      return { count: n, version: loaded };
    });
    this.cache.set(`${datasetId}:${twin}`, { version, table: Promise.resolve(builder.build()) });
    return { rows: count };
  }

  async loadStream(
    actor: Principal,
    datasetId: number,
    twin: Twin,
    input: Readable,
    format: InputFormat,
    onProgress?: (rows: number) => void,
  ): Promise<{ rows: number }> {
    const dataset = await this.ownDataset(actor, datasetId);
    return this.loadEvents(actor, datasetId, twin, readEvents(input, format, dataset.meta), onProgress);
  }

  /** Fills the mock twin with generated events using the dataset's own public keys (same schema, plausible values). */
  async generateMock(
    actor: Principal,
    datasetId: number,
    options: { users?: number; seed?: number } = {},
  ): Promise<{ rows: number }> {
    const dataset = await this.ownDataset(actor, datasetId);
    const rows: EventRow[] = [];
    generateEvents({ users: options.users ?? 500, seed: options.seed ?? 1 }, (row) =>
      rows.push(mapToKeys(row, dataset.meta)),
    );
    return this.loadEvents(actor, datasetId, 'mock', rows);
  }

  async registerResearcher(
    actor: Principal,
    input: { name: string; email: string; principal: string; accreditedUntil: string },
  ): Promise<ResearcherRecord> {
    if (!/^(key|user):[1-9][0-9]{0,15}$/.test(input.principal)) {
      throw new ValidationError(
        'principal must be "key:<id>" or "user:<id>" (what GET /v1/me or the session shows)',
        'KAI_ERR_RESEARCH_RESEARCHER',
      );
    }
    const until = Date.parse(input.accreditedUntil);
    if (Number.isNaN(until) || until <= Date.now())
      throw new ValidationError('accreditedUntil must be a future date', 'KAI_ERR_RESEARCH_RESEARCHER');
    return this.transactions.run(actor.label, async (unit) => {
      const store = this.store(unit.db);
      const existing = await store.findResearcher(actor.orgId, input.principal);
      let record: ResearcherRecord;
      if (existing) {
        await store.updateAccreditation(existing.id, actor.label, new Date(until).toISOString());
        record = await store.getResearcher(existing.id);
      } else {
        record = await store.createResearcher(actor.orgId, {
          ...input,
          accreditedBy: actor.label,
          accreditedUntil: new Date(until).toISOString(),
        });
      }
      await unit.audit({
        orgId: actor.orgId,
        action: 'research.researcher.accredit',
        subjectType: 'researcher',
        subjectId: record.id,
        detail: { principal: record.principal, email: record.email, until: record.accreditedUntil },
      });
      return record;
    });
  }

  async listResearchers(actor: Principal): Promise<ResearcherRecord[]> {
    return this.store().listResearchers(actor.orgId);
  }

  async revokeResearcher(actor: Principal, researcherId: number): Promise<void> {
    const r = await this.store().getResearcher(researcherId);
    if (r.orgId !== actor.orgId)
      throw new NotFoundError(`researcher ${researcherId} not found`, 'KAI_ERR_RESEARCHER_NOT_FOUND');
    await this.transactions.run(actor.label, async (unit) => {
      await this.store(unit.db).revokeResearcher(researcherId);
      await unit.audit({
        orgId: actor.orgId,
        action: 'research.researcher.revoke',
        subjectType: 'researcher',
        subjectId: researcherId,
      });
    });
  }

  async setBudget(
    actor: Principal,
    researcherId: number,
    datasetId: number,
    budget: { rho: number; delta?: number },
  ): Promise<BudgetView> {
    await this.ownDataset(actor, datasetId);
    const researcher = await this.store().getResearcher(researcherId);
    if (researcher.orgId !== actor.orgId)
      throw new NotFoundError(`researcher ${researcherId} not found`, 'KAI_ERR_RESEARCHER_NOT_FOUND');
    const delta = budget.delta ?? 0;
    if (
      typeof budget.rho !== 'number' ||
      !Number.isFinite(budget.rho) ||
      !(budget.rho > 0) ||
      budget.rho > 100
    ) {
      throw new ValidationError('rho must be a number in (0, 100]', 'KAI_ERR_RESEARCH_BUDGET_INVALID');
    }
    if (!Number.isFinite(delta) || delta < 0 || delta > 1e-3)
      throw new ValidationError('delta must be in [0, 1e-3]', 'KAI_ERR_RESEARCH_BUDGET_INVALID');
    return this.transactions.run(actor.label, async (unit) => {
      const saved = await this.store(unit.db).setBudget(researcherId, datasetId, budget.rho, delta);
      await unit.audit({
        orgId: actor.orgId,
        action: 'research.budget.set',
        subjectType: 'research_budget',
        subjectId: `${researcherId}:${datasetId}`,
        detail: { rho: budget.rho, delta },
      });
      return budgetView(saved);
    });
  }

  async datasetBudgets(actor: Principal, datasetId: number): Promise<BudgetView[]> {
    await this.ownDataset(actor, datasetId);
    return (await this.store().budgetsOfDataset(datasetId)).map(budgetView);
  }

  async ownerRequests(actor: Principal, status?: RequestRecord['status']): Promise<RequestRecord[]> {
    const datasets = await this.store().listDatasets(actor.orgId);
    return this.store().listRequests({
      datasetIds: datasets.map((d) => d.id),
      ...(status ? { status } : {}),
    });
  }

  private async ownRequest(
    actor: Principal,
    requestId: number,
  ): Promise<{ request: RequestRecord; dataset: Dataset }> {
    const request = await this.store().getRequest(requestId);
    const dataset = this.toDataset(await this.store().getDataset(request.datasetId));
    if (dataset.orgId !== actor.orgId)
      throw new NotFoundError(
        `research request ${requestId} not found`,
        'KAI_ERR_RESEARCH_REQUEST_NOT_FOUND',
      );
    return { request, dataset };
  }

  /** The owner runs a request's plan on the mock (free) to see what it does. */
  async ownerRunOnMock(actor: Principal, requestId: number): Promise<QueryResult> {
    const { request, dataset } = await this.ownRequest(actor, requestId);
    const plan = validatePlan(dataset.meta, request.plan);
    return runPlan(await this.columns(dataset, 'mock'), plan, { noisy: false });
  }

  async approve(actor: Principal, requestId: number): Promise<SubmitOutcome> {
    const { request } = await this.ownRequest(actor, requestId);
    const moved = await this.transactions.run(actor.label, async (unit) => {
      if (
        !(await this.store(unit.db).transition(requestId, ['pending'], 'approved', {
          decidedBy: actor.label,
        }))
      )
        return false;
      await unit.audit({
        orgId: actor.orgId,
        action: 'research.request.approve',
        subjectType: 'research_request',
        subjectId: requestId,
      });
      return true;
    });
    if (!moved)
      throw new ConflictError(
        `request ${requestId} is ${request.status}, not pending`,
        'KAI_ERR_RESEARCH_REQUEST_STATE',
      );
    return this.execute(requestId, actor.label);
  }

  async deny(actor: Principal, requestId: number, reason: string): Promise<RequestRecord> {
    const text = reason.trim();
    if (text.length < 1 || text.length > 2000)
      throw new ValidationError('a denial needs a reason (1 to 2000 characters)', 'KAI_ERR_RESEARCH_REASON');
    const { request } = await this.ownRequest(actor, requestId);
    const moved = await this.transactions.run(actor.label, async (unit) => {
      if (
        !(await this.store(unit.db).transition(requestId, ['pending'], 'denied', {
          decidedBy: actor.label,
          reason: text,
        }))
      )
        return false;
      await unit.audit({
        orgId: actor.orgId,
        action: 'research.request.deny',
        subjectType: 'research_request',
        subjectId: requestId,
        detail: { reason: text },
      });
      return true;
    });
    if (!moved)
      throw new ConflictError(
        `request ${requestId} is ${request.status}, not pending`,
        'KAI_ERR_RESEARCH_REQUEST_STATE',
      );
    return this.store().getRequest(requestId);
  }

  // ---------------------------------------------------------------- researchers

  /** The caller's registration with the dataset's owner, checked: accredited, not revoked, granted a budget. */
  private async access(
    actor: Principal,
    datasetId: number,
  ): Promise<{ dataset: Dataset; researcher: ResearcherRecord; budget: BudgetRecord }> {
    const dataset = this.toDataset(await this.store().getDataset(datasetId));
    const researcher = await this.store().findResearcher(dataset.orgId, actor.label);
    const budget = researcher && (await this.store().getBudget(researcher.id, datasetId));
    if (!researcher || !budget) {
      throw new ForbiddenError(
        `dataset ${datasetId} has not been granted to you`,
        'KAI_ERR_RESEARCH_NOT_GRANTED',
      );
    }
    if (researcher.revokedAt)
      throw new ForbiddenError(
        'your accreditation was revoked by the data owner',
        'KAI_ERR_RESEARCH_ACCREDITATION',
      );
    if (Date.parse(researcher.accreditedUntil) <= Date.now()) {
      throw new ForbiddenError(
        `your accreditation expired on ${researcher.accreditedUntil}; ask the data owner to renew it`,
        'KAI_ERR_RESEARCH_ACCREDITATION',
      );
    }
    return { dataset, researcher, budget };
  }

  /** What the caller may use: registrations, datasets granted (with schema and key sets) and budgets. */
  async researcherOverview(
    actor: Principal,
  ): Promise<{ researchers: ResearcherRecord[]; datasets: Dataset[]; budgets: BudgetView[] }> {
    const researchers = await this.store().researchersByPrincipal(actor.label);
    const budgets = await this.store().budgetsOfResearchers(researchers.map((r) => r.id));
    const datasets = (await this.store().listDatasetsById([...new Set(budgets.map((b) => b.datasetId))])).map(
      (d) => this.toDataset(d),
    );
    return { researchers, datasets, budgets: budgets.map(budgetView) };
  }

  async createProject(
    actor: Principal,
    datasetId: number,
    title: string,
    purpose: string,
  ): Promise<{ id: number; title: string; purpose: string }> {
    const { researcher, dataset } = await this.access(actor, datasetId);
    if (title.trim().length < 1 || purpose.trim().length < 10)
      throw new ValidationError(
        'a project needs a title and a stated purpose (≥ 10 characters)',
        'KAI_ERR_RESEARCH_PROJECT',
      );
    return this.transactions.run(actor.label, async (unit) => {
      const project = await this.store(unit.db).createProject(researcher.id, title.trim(), purpose.trim());
      await unit.audit({
        orgId: dataset.orgId,
        action: 'research.project.create',
        subjectType: 'research_project',
        subjectId: project.id,
        detail: { title: project.title, purpose: project.purpose },
      });
      return project;
    });
  }

  async listProjects(
    actor: Principal,
  ): Promise<Array<{ id: number; researcherId: number; title: string; purpose: string }>> {
    const researchers = await this.store().researchersByPrincipal(actor.label);
    return this.store().listProjects(researchers.map((r) => r.id));
  }

  /** Runs a plan on the mock twin: free, unlimited, exact (the noise a private run would add is described). */
  async runOnMock(actor: Principal, datasetId: number, planInput: unknown): Promise<QueryResult> {
    const { dataset } = await this.access(actor, datasetId);
    const plan = validatePlan(dataset.meta, planInput);
    return runPlan(await this.columns(dataset, 'mock'), plan, { noisy: false });
  }

  /** A sample of mock rows (the mock is public to accredited researchers; the private data never is). */
  async mockSample(actor: Principal, datasetId: number, limit: number): Promise<EventRow[]> {
    const { dataset } = await this.access(actor, datasetId);
    const out: EventRow[] = [];
    for await (const page of this.store().streamEvents(dataset.id, 'mock', Math.min(limit, 1000))) {
      out.push(...page);
      break;
    }
    return out.slice(0, limit);
  }

  /** Submits a plan for the private data: refused, queued for review, or run and released at once. */
  async submit(
    actor: Principal,
    datasetId: number,
    input: { plan: unknown; projectId?: number },
  ): Promise<SubmitOutcome> {
    const { dataset, researcher, budget } = await this.access(actor, datasetId);
    const plan = validatePlan(dataset.meta, input.plan);
    if (input.projectId !== undefined) {
      const project = await this.store().getProject(input.projectId);
      if (!project || project.researcherId !== researcher.id)
        throw new NotFoundError(`project ${input.projectId} not found`, 'KAI_ERR_RESEARCH_PROJECT');
    }
    const cost = planCost(plan);
    this.assertFits(budget, cost);
    const reason = reviewReason(dataset.meta.autoApprove, plan);
    const request = await this.transactions.run(actor.label, async (unit) => {
      const created = await this.store(unit.db).createRequest({
        datasetId,
        researcherId: researcher.id,
        projectId: input.projectId ?? null,
        plan,
        planHash: planHash(plan),
        rho: cost.rho,
        delta: cost.delta,
        status: reason ? 'pending' : 'approved',
        reason,
      });
      await unit.audit({
        orgId: dataset.orgId,
        action: 'research.request.submit',
        subjectType: 'research_request',
        subjectId: created.id,
        detail: {
          dataset: datasetId,
          plan_hash: created.planHash,
          rho: cost.rho,
          delta: cost.delta,
          status: created.status,
          ...(reason ? { reason } : {}),
        },
      });
      return created;
    });
    if (reason) return { request, result: null };
    return this.execute(request.id, 'policy:auto');
  }

  private assertFits(budget: BudgetRecord, cost: { rho: number; delta: number }): void {
    if (budget.rhoSpent + cost.rho > budget.rho * (1 + 1e-12)) {
      throw new BudgetError(
        `this plan costs ρ = ${cost.rho}; ${Math.max(0, budget.rho - budget.rhoSpent)} of ${budget.rho} remains`,
      );
    }
    if (budget.deltaSpent + cost.delta > budget.delta * (1 + 1e-12)) {
      throw new BudgetError(
        `this plan costs δ = ${cost.delta}; ${Math.max(0, budget.delta - budget.deltaSpent)} of ${budget.delta} remains`,
      );
    }
  }

  /**
   * Runs an approved request on the private data and, in one transaction, charges the budget and stores the
   * result. If the charge does not fit, nothing is released and the request fails (uncharged).
   */
  private async execute(requestId: number, decidedBy: string): Promise<SubmitOutcome> {
    const request = await this.store().getRequest(requestId);
    const dataset = this.toDataset(await this.store().getDataset(request.datasetId));
    const plan = validatePlan(dataset.meta, request.plan);
    const table = await this.columns(dataset, 'private');
    const result = runPlan(table, plan, { noisy: true });
    try {
      await this.transactions.run(decidedBy, async (unit) => {
        const store = this.store(unit.db);
        if (!(await store.transition(requestId, ['approved'], 'released', { result }))) {
          throw new ConflictError(
            `request ${requestId} was released already`,
            'KAI_ERR_RESEARCH_REQUEST_STATE',
          );
        }
        if (
          !(await store.charge(
            request.researcherId,
            request.datasetId,
            requestId,
            request.rho,
            request.delta,
          ))
        ) {
          throw new BudgetError(
            `request ${requestId} no longer fits the remaining budget; nothing was released or charged`,
          );
        }
        this.faults.beforeCommit?.();
        await unit.audit({
          orgId: dataset.orgId,
          action: 'research.release',
          subjectType: 'research_request',
          subjectId: requestId,
          detail: {
            plan_hash: request.planHash,
            rho: request.rho,
            delta: request.delta,
            noise: result.noise.map((n) => ({ mechanism: n.mechanism, scale: n.scale })),
          },
        });
      });
    } catch (err) {
      if (err instanceof BudgetError) {
        await this.transactions.run(decidedBy, async (unit) => {
          if (
            await this.store(unit.db).transition(requestId, ['approved'], 'failed', { reason: err.message })
          ) {
            await unit.audit({
              orgId: dataset.orgId,
              action: 'research.request.fail',
              subjectType: 'research_request',
              subjectId: requestId,
              detail: { reason: err.message },
            });
          }
        });
      }
      throw err;
    }
    this.faults.afterCommit?.();
    return { request: await this.store().getRequest(requestId), result };
  }

  /**
   * A request the caller may see (their own, or one on the owner's dataset). A request left approved but not
   * released (the process stopped before the release committed) is run now, and charged once.
   */
  async getRequest(actor: Principal, requestId: number): Promise<RequestRecord> {
    const request = await this.store().getRequest(requestId);
    const dataset = await this.store().getDataset(request.datasetId);
    const researcher = await this.store().getResearcher(request.researcherId);
    const isOwner = dataset.orgId === actor.orgId && actor.permissions.has('research:own');
    if (!isOwner && researcher.principal !== actor.label) {
      throw new NotFoundError(
        `research request ${requestId} not found`,
        'KAI_ERR_RESEARCH_REQUEST_NOT_FOUND',
      );
    }
    if (request.status === 'approved' && !isOwner) {
      await this.access(actor, request.datasetId);
      try {
        return (await this.execute(requestId, 'resume')).request;
      } catch (err) {
        if (err instanceof ConflictError || err instanceof BudgetError)
          return this.store().getRequest(requestId);
        throw err;
      }
    }
    return request;
  }

  async researcherRequests(actor: Principal): Promise<RequestRecord[]> {
    const researchers = await this.store().researchersByPrincipal(actor.label);
    return this.store().listRequests({ researcherIds: researchers.map((r) => r.id) });
  }

  async ledger(
    actor: Principal,
    datasetId: number,
    researcherId?: number,
  ): Promise<{ budget: BudgetView; entries: Awaited<ReturnType<ResearchStore['ledger']>> }> {
    let rid: number;
    if (researcherId !== undefined) {
      await this.ownDataset(actor, datasetId);
      rid = researcherId;
    } else {
      rid = (await this.access(actor, datasetId)).researcher.id;
    }
    const budget = await this.store().getBudget(rid, datasetId);
    if (!budget)
      throw new NotFoundError('no budget for this researcher and dataset', 'KAI_ERR_RESEARCH_NOT_GRANTED');
    return { budget: budgetView(budget), entries: await this.store().ledger(rid, datasetId) };
  }

  // ---------------------------------------------------------------- columns

  /** The twin's events as columns, cached until the next load. */
  async columns(dataset: Dataset, twin: Twin): Promise<EventTable> {
    const fresh = this.toDataset(await this.store().getDataset(dataset.id));
    const version = twin === 'private' ? fresh.privateVersion : fresh.mockVersion;
    const key = `${dataset.id}:${twin}`;
    const cached = this.cache.get(key);
    if (cached && cached.version === version) return cached.table;
    const rows = twin === 'private' ? fresh.privateRows : fresh.mockRows;
    if (rows === 0) {
      throw new ConflictError(
        `dataset ${dataset.id} has no ${twin === 'private' ? 'private data' : 'mock twin'} loaded yet`,
        'KAI_ERR_RESEARCH_NO_DATA',
      );
    }
    // Concurrent requests share one load (no stampede of 50 readers on a cold cache).
    const table = (async () => {
      const builder = new EventTableBuilder(fresh.meta, rows);
      for await (const page of this.store().streamEvents(dataset.id, twin))
        for (const row of page) builder.add(row);
      return builder.build();
    })();
    this.cache.set(key, { version, table });
    try {
      return await table;
    } catch (err) {
      this.cache.delete(key);
      throw err;
    }
  }
}

/** A generated row with its categorical values mapped onto a dataset's own public keys. */
function mapToKeys(row: EventRow, meta: DatasetMeta): EventRow {
  const map = (column: (typeof CATEGORICAL_COLUMNS)[number]) => {
    const own = meta.publicKeys[column];
    if (own.includes(row[column])) return row[column];
    const index = DEMO_META.publicKeys[column].indexOf(row[column]);
    return own[index % own.length];
  };
  const [, high] = meta.bounds.dwell_ms ?? [0, 600_000];
  return {
    ...row,
    category: map('category'),
    arm: map('arm'),
    surface: map('surface'),
    country: map('country'),
    dwell_ms: Math.min(row.dwell_ms, high),
  };
}
