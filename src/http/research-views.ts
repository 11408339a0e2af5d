/** Research domain objects to API views (snake_case). The private data never appears in any of them. */
import type { QueryResult } from '../research/engine.js';
import type { BudgetView, Dataset } from '../research/service.js';
import type { RequestRecord, ResearcherRecord } from '../store/research.js';

export const datasetView = (d: Dataset) => ({
  id: d.id,
  organisation_id: d.orgId,
  name: d.name,
  description: d.description,
  privacy_unit: d.privacyUnit,
  public_keys: d.meta.publicKeys,
  bounds: d.meta.bounds,
  auto_approve: {
    kinds: d.meta.autoApprove.kinds,
    max_rho: d.meta.autoApprove.maxRho,
    private_keys: d.meta.autoApprove.privateKeys,
  },
  private_rows: d.privateRows,
  mock_rows: d.mockRows,
  created_at: d.createdAt,
});

export const researcherView = (r: ResearcherRecord) => ({
  id: r.id,
  organisation_id: r.orgId,
  name: r.name,
  email: r.email,
  principal: r.principal,
  accredited_by: r.accreditedBy,
  accredited_until: r.accreditedUntil,
  revoked_at: r.revokedAt,
  created_at: r.createdAt,
});

export const budgetJson = (b: BudgetView) => ({
  researcher_id: b.researcherId,
  dataset_id: b.datasetId,
  rho: b.rho,
  delta: b.delta,
  rho_spent: b.rhoSpent,
  delta_spent: b.deltaSpent,
  rho_remaining: b.rhoRemaining,
  epsilon: b.epsilon,
  updated_at: b.updatedAt,
});

export const resultView = (r: QueryResult) => ({
  kind: r.kind,
  noisy: r.noisy,
  ...(r.columns ? { columns: r.columns, rows: r.rows } : {}),
  ...(r.value !== undefined ? { value: r.value } : {}),
  ...(r.metric ? { metric: r.metric } : {}),
  noise: r.noise.map((n) => ({
    statistic: n.statistic,
    mechanism: n.mechanism,
    scale: n.scale,
    sensitivity: n.sensitivity,
    interval95: n.interval95,
  })),
  cost: r.cost,
});

export const requestView = (r: RequestRecord) => ({
  id: r.id,
  dataset_id: r.datasetId,
  researcher_id: r.researcherId,
  project_id: r.projectId,
  plan: r.plan,
  plan_hash: r.planHash,
  cost: { rho: r.rho, delta: r.delta },
  status: r.status,
  reason: r.reason,
  decided_by: r.decidedBy,
  decided_at: r.decidedAt,
  released_at: r.releasedAt,
  created_at: r.createdAt,
  result: r.status === 'released' && r.result ? resultView(r.result as QueryResult) : null,
});
