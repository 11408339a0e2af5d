/** Row types per table, as Kysely sees them. Services turn rows into domain objects; routes turn those into views. */
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

export interface OrganisationsTable {
  id: Generated<number>;
  name: string;
  kind: string;
  created_at: string;
}

export interface UsersTable {
  id: Generated<number>;
  org_id: number;
  email: string;
  display_name: string;
  password_hash: string | null;
  role: string;
  disabled: ColumnType<number, number | undefined, number>;
  created_at: string;
}

export interface ApiKeysTable {
  id: Generated<number>;
  org_id: number;
  name: string;
  prefix: string;
  key_hash: string;
  role: string;
  created_by: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface BanksTable {
  id: Generated<number>;
  org_id: number;
  name: string;
  description: string;
  /** JSON array of labels applied to entries added without labels. */
  default_labels: string;
  /** JSON object: signal type -> inclusive distance threshold. */
  thresholds: string;
  enabled: number;
  /** 'private' or 'shared' (with the organisations in bank_shares). */
  sharing: string;
  created_at: string;
  updated_at: string;
}

export interface BankSharesTable {
  bank_id: number;
  org_id: number;
  can_contribute: number;
  created_at: string;
}

export interface EntriesTable {
  id: Generated<number>;
  bank_id: number;
  org_id: number;
  signal_type: string;
  value: string;
  /** JSON array of labels. */
  labels: string;
  contributor_org_id: number;
  source: string;
  external_id: string | null;
  note: string | null;
  status: string;
  created_at: string;
  updated_at: string;
  /** Change sequence number of the last change; the index follows entries by it. */
  seq: number;
}

/** Deleted entries, so that other processes' indexes learn of the deletion (changesSince). */
export interface EntryTombstonesTable {
  entry_id: number;
  bank_id: number;
  signal_type: string;
  value: string;
  seq: number;
  deleted_at: string;
}

export interface AuditLogTable {
  id: Generated<number>;
  org_id: number | null;
  actor: string;
  action: string;
  subject_type: string;
  subject_id: string;
  /** JSON object. */
  detail: string;
  created_at: string;
  /** Hash of the previous record ('0' x 64 for the first), so no record can change or vanish unnoticed. */
  prev_hash: string;
  hash: string;
}

export interface PoliciesTable {
  id: Generated<number>;
  org_id: number;
  /** Null: any bank. */
  bank_id: number | null;
  /** Null: any label. */
  label: string | null;
  action: string;
  created_at: string;
}

export interface SubmissionsTable {
  id: Generated<number>;
  org_id: number;
  external_id: string;
  idempotency_key: string | null;
  request_hash: string;
  signals: string;
  uploader_id: string | null;
  context: string;
  verdict: string;
  case_id: number | null;
  created_at: string;
  /** The uploaded media, when the platform sent the file (kept in the media store for review). */
  media_sha256: ColumnType<string | null, string | null | undefined, string | null>;
  media_purged_at: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface CasesTable {
  id: Generated<number>;
  org_id: number;
  submission_id: number | null;
  external_id: string | null;
  status: string;
  priority: string;
  due_at: string;
  assignee: string | null;
  /** JSON array of match evidence. */
  evidence: string;
  created_at: string;
  updated_at: string;
}

export interface DecisionsTable {
  id: Generated<number>;
  case_id: number;
  org_id: number;
  decision: string;
  ground_type: string;
  ground: string;
  reason: string;
  automated: number;
  decided_by: string;
  created_at: string;
}

export interface ActionsTable {
  id: string;
  org_id: number;
  case_id: number;
  decision_id: number;
  type: string;
  payload: string;
  status: string;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

export interface StatementsTable {
  id: string;
  org_id: number;
  case_id: number;
  decision_id: number;
  action_id: string;
  body: string;
  created_at: string;
}

export interface WebhooksTable {
  id: Generated<number>;
  org_id: number;
  url: string;
  secret: string;
  enabled: ColumnType<number, number | undefined, number>;
  created_at: string;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  action_id: string;
  webhook_id: number;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  created_at: string;
}

export interface ReportsTable {
  id: Generated<number>;
  org_id: number;
  case_id: number;
  /** 'report' (a user of the platform) or 'alert' (a URL-level alert, e.g. from a TCAP-style feed). */
  kind: string;
  external_id: string | null;
  url: string | null;
  source: string;
  category: string | null;
  detail: string;
  created_at: string;
}

export interface SessionsTable {
  /** SHA-256 of the cookie's token; the token itself is never stored. */
  token_hash: string;
  user_id: number;
  csrf_token: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
}

export interface CountersTable {
  name: string;
  value: number;
}

export interface Schema {
  organisations: OrganisationsTable;
  users: UsersTable;
  api_keys: ApiKeysTable;
  banks: BanksTable;
  bank_shares: BankSharesTable;
  entries: EntriesTable;
  entry_tombstones: EntryTombstonesTable;
  counters: CountersTable;
  audit_log: AuditLogTable;
  policies: PoliciesTable;
  submissions: SubmissionsTable;
  cases: CasesTable;
  decisions: DecisionsTable;
  actions: ActionsTable;
  statements: StatementsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  reports: ReportsTable;
  sessions: SessionsTable;
  research_datasets: ResearchDatasetsTable;
  research_events: ResearchEventsTable;
  research_researchers: ResearchResearchersTable;
  research_projects: ResearchProjectsTable;
  research_budgets: ResearchBudgetsTable;
  research_requests: ResearchRequestsTable;
  research_ledger: ResearchLedgerTable;
}

export type OrganisationRow = Selectable<OrganisationsTable>;
export type UserRow = Selectable<UsersTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type BankRow = Selectable<BanksTable>;
export type EntryRow = Selectable<EntriesTable>;
export type NewEntryRow = Insertable<EntriesTable>;
export type AuditRow = Selectable<AuditLogTable>;

// Research access (issue 14).
export interface ResearchDatasetsTable {
  id: Generated<number>;
  org_id: number;
  name: string;
  description: string;
  meta: string;
  privacy_unit: string;
  private_rows: ColumnType<number, number | undefined, number>;
  mock_rows: ColumnType<number, number | undefined, number>;
  private_version: string;
  mock_version: string;
  created_at: string;
}

export interface ResearchEventsTable {
  dataset_id: number;
  twin: number;
  seq: number;
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

export interface ResearchResearchersTable {
  id: Generated<number>;
  org_id: number;
  name: string;
  email: string;
  principal: string;
  accredited_by: string;
  accredited_until: string;
  created_at: string;
  revoked_at: string | null;
}

export interface ResearchProjectsTable {
  id: Generated<number>;
  researcher_id: number;
  title: string;
  purpose: string;
  created_at: string;
}

export interface ResearchBudgetsTable {
  researcher_id: number;
  dataset_id: number;
  rho: number;
  delta: number;
  rho_spent: ColumnType<number, number | undefined, number>;
  delta_spent: ColumnType<number, number | undefined, number>;
  updated_at: string;
}

export interface ResearchRequestsTable {
  id: Generated<number>;
  dataset_id: number;
  researcher_id: number;
  project_id: number | null;
  plan: string;
  plan_hash: string;
  rho: number;
  delta: number;
  status: string;
  reason: string | null;
  decided_by: string | null;
  decided_at: string | null;
  result: string | null;
  released_at: string | null;
  created_at: string;
}

export interface ResearchLedgerTable {
  id: Generated<number>;
  researcher_id: number;
  dataset_id: number;
  request_id: number;
  rho: number;
  delta: number;
  created_at: string;
}
