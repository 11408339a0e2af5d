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
  /** 1: the key administers the instance (organisations, every audit record); never granted through the API. */
  instance_admin: ColumnType<number, number | undefined, number>;
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
  /** HMA's matching ratio, 0..1 (0 when disabled): the share of lookups that match this bank. */
  enabled_ratio: Generated<number>;
  /** 'detect' or 'suppress' (its matches cancel verdicts). */
  purpose: Generated<string>;
  /** The subscription that mirrors an external list into this bank (`subscription:<id>`); null for other banks. */
  managed_by: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface BankSharesTable {
  bank_id: number;
  org_id: number;
  can_contribute: number;
  created_at: string;
  /** When the receiving organisation accepted the offer; null while it is only an offer. */
  accepted_at: string | null;
  /** What the receiver's matches on this bank do (a policy action); null = review. */
  policy: string | null;
  /** `read`, `contribute` or `moderate`; can_contribute is kept equal to "not read". */
  rights: Generated<string>;
}

/** A bank's label taxonomy: present when the bank has one (its entries may then carry only those labels). */
export interface BankTaxonomiesTable {
  bank_id: number;
  /** The preset it was seeded from (`gifct`, `tcap`), null when the labels were given. */
  preset: string | null;
  updated_by: string;
  updated_at: string;
}

/** The labels of a bank's taxonomy. */
export interface BankLabelsTable {
  bank_id: number;
  key: string;
  description: string;
  label_group: string;
  /** The order the labels were given in. */
  position: number;
}

export interface AuditHeadTable {
  name: string;
  seq: number;
  hash: string;
  updated_at: string;
}

export interface SignInFailuresTable {
  /** Lower-cased e-mail address tried. */
  account: string;
  failures: number;
  locked_until: string | null;
  last_failure_at: string;
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
  /** JSON: what an HMA client gave ({disable_until_ts?, metadata?}); null otherwise. */
  hma: ColumnType<string | null, string | null | undefined, string | null>;
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
  /** JSON {action, matches} of the first answer to a synchronous submission; null for older or pending ones. */
  answer: string | null;
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
  /** Goes up on every change a reviewer should see; a decision names the version it was made on. */
  version: ColumnType<number, number | undefined, number>;
  /** Who has the case open in the review console, until when (an expired claim is no claim). */
  claimed_by: ColumnType<string | null, string | null | undefined, string | null>;
  claim_expires_at: ColumnType<string | null, string | null | undefined, string | null>;
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
  bank_taxonomies: BankTaxonomiesTable;
  bank_labels: BankLabelsTable;
  entries: EntriesTable;
  entry_tombstones: EntryTombstonesTable;
  counters: CountersTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  sign_in_failures: SignInFailuresTable;
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
  removal_orders: RemovalOrdersTable;
  referrals: ReferralsTable;
  appeals: AppealsTable;
  bank_reversals: BankReversalsTable;
  org_settings: OrgSettingsTable;
  dsa_submissions: DsaSubmissionsTable;
  decision_facts: DecisionFactsTable;
  decision_fact_days: DecisionFactDaysTable;
  research_datasets: ResearchDatasetsTable;
  research_events: ResearchEventsTable;
  research_researchers: ResearchResearchersTable;
  research_projects: ResearchProjectsTable;
  research_budgets: ResearchBudgetsTable;
  research_requests: ResearchRequestsTable;
  research_ledger: ResearchLedgerTable;
  job_leases: JobLeasesTable;
  signal_feedback: SignalFeedbackTable;
  instance_identity: InstanceIdentityTable;
  flood_stops: FloodStopsTable;
  source_subscriptions: SourceSubscriptionsTable;
  source_quarantine: SourceQuarantineTable;
  crisis_protocols: CrisisProtocolsTable;
  crisis_participants: CrisisParticipantsTable;
  crisis_incidents: CrisisIncidentsTable;
  crisis_activations: CrisisActivationsTable;
  crisis_transitions: CrisisTransitionsTable;
  crisis_criteria: CrisisCriteriaTable;
  crisis_decisions: CrisisDecisionsTable;
  crisis_notifications: CrisisNotificationsTable;
  crisis_updates: CrisisUpdatesTable;
  crisis_telemetry: CrisisTelemetryTable;
  crisis_resources: CrisisResourcesTable;
  crisis_findings: CrisisFindingsTable;
  crisis_drill_runs: CrisisDrillRunsTable;
  sharing_member_instances: SharingMemberInstancesTable;
  contribution_batches: ContributionBatchesTable;
  contribution_items: ContributionItemsTable;
}

export type OrganisationRow = Selectable<OrganisationsTable>;
export type UserRow = Selectable<UsersTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type BankRow = Selectable<BanksTable>;
export type EntryRow = Selectable<EntriesTable>;
export type NewEntryRow = Insertable<EntriesTable>;
export type AuditRow = Selectable<AuditLogTable>;

/** A TCO Art. 3 removal order from an authority to a platform (Annex I fields; Annex II/III answers). */
export interface RemovalOrdersTable {
  id: Generated<number>;
  authority_org_id: number;
  platform_org_id: number;
  reference: string;
  authority_name: string;
  member_state: string;
  /** JSON array of Art. 2(7) letters (a-e). */
  content_types: string;
  reasons: string;
  /** JSON array of {url?, external_id?}. */
  items: string;
  item_count: number;
  legal_basis: string;
  signed_at: string;
  signature: string;
  redress: string;
  non_disclosure_until: string | null;
  non_disclosure_extended: ColumnType<number, number | undefined, number>;
  cross_border: number;
  received_at: string;
  clock_start: string;
  deadline_at: string;
  status: string;
  case_id: number | null;
  action: string | null;
  actioned_at: string | null;
  answered_at: string | null;
  late: ColumnType<number, number | undefined, number>;
  annex_iii_ground: string | null;
  annex_iii_detail: string | null;
  annex_iii_at: string | null;
  scrutiny_requested_by: string | null;
  scrutiny_requested_at: string | null;
  scrutiny_deadline_at: string | null;
  scrutiny_outcome: string | null;
  scrutiny_decided_at: string | null;
  reinstated_at: string | null;
  reinstatement_reason: string | null;
  preserve_until: string | null;
  /** JSON array of { until, by, reason, at }: Art. 6(2) extensions asked by an authority or court. */
  preservation_extensions: ColumnType<string, string | undefined, string>;
  preservation_purged_at: ColumnType<string | null, string | null | undefined, string | null>;
  notice_action_id: string | null;
  created_at: string;
}

/** A voluntary, terms-based referral from an authority (an IRU notice). */
export interface ReferralsTable {
  id: Generated<number>;
  authority_org_id: number;
  platform_org_id: number;
  reference: string;
  items: string;
  item_count: number;
  basis_cited: string;
  reasons: string;
  received_at: string;
  outcome: string;
  basis_used: string | null;
  outcome_at: string | null;
  case_id: number | null;
}

export interface AppealsTable {
  id: Generated<number>;
  org_id: number;
  decision_id: number;
  case_id: number;
  appellant_id: string;
  channel: string;
  statement: string;
  status: string;
  original_decider: string;
  automated_detection: number;
  /** JSON array of {bank_id, entry_id, bank_org_id} from the decision's evidence. */
  bank_ids: string;
  assignee: string | null;
  filed_at: string;
  due_at: string;
  decided_at: string | null;
  decided_by: string | null;
  reply: string | null;
  restore_action_id: string | null;
}

/** A reversed appeal counted against the bank entry that caused the decision (feeds per-bank error rates). */
export interface BankReversalsTable {
  id: Generated<number>;
  appeal_id: number;
  bank_id: number;
  entry_id: number;
  bank_org_id: number;
  org_id: number;
  created_at: string;
}

export interface OrgSettingsTable {
  org_id: number;
  /** JSON array of hosts whose URLs are this platform's content (removal orders for other hosts are refused). */
  hosts: string;
  appeal_window_days: number;
  publish_reports: number;
  appeal_link_secret: string;
  updated_at: string;
}

/** Statements of reasons accepted by the EU DSA transparency database (so none is sent twice). */
export interface DsaSubmissionsTable {
  statement_id: string;
  org_id: number;
  /** 'accepted' by the database, or 'excluded' (removal orders, DSA Art. 17(5); no restriction). */
  status: string;
  submitted_at: string;
}

/** One narrow row per decision, written when it is taken: the transparency reports group and count these. */
export interface DecisionFactsTable {
  decision_id: number;
  org_id: number;
  created_at: string;
  decision: string;
  automated: number;
  /** What opened the case: removal_order, referral, alert, trusted_flagger, user_report, shared_bank, own_bank, proactive. */
  source: string;
  territory: string;
  format: string;
  /** JSON array of labels, sorted. */
  labels: string;
  /** JSON array of [bank id, bank owner org id], sorted by bank id. */
  banks: string;
  /** Seconds from the case opening to the decision. */
  seconds: number;
}

/** Decision facts counted per organisation, UTC day and everything the reports group by; kept on write. */
export interface DecisionFactDaysTable {
  org_id: number;
  /** YYYY-MM-DD (UTC), the day of the decisions' created_at. */
  day: string;
  decision: string;
  automated: number;
  source: string;
  territory: string;
  format: string;
  labels: string;
  banks: string;
  n: number;
}

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

export interface JobLeasesTable {
  name: string;
  holder: string;
  expires_at: string;
  last_run_at: string | null;
  last_error: string | null;
}

export interface SignalFeedbackTable {
  id: Generated<number>;
  entry_id: number;
  bank_id: number;
  org_id: number;
  kind: string;
  reason: string | null;
  source: string;
  created_at: string;
  updated_at: string;
}

export interface InstanceIdentityTable {
  id: string;
  public_key: string;
  private_key: string;
  created_at: string;
}

export interface FloodStopsTable {
  org_id: number;
  entry_id: number;
  matches: number;
  created_at: string;
}

/** An organisation's subscription to an external list (src/sources/), mirrored into a read-only bank. */
export interface SourceSubscriptionsTable {
  id: Generated<number>;
  org_id: number;
  /** Unique per organisation; also the mirror bank's name and the HMA exchange name. */
  name: string;
  /** A source kind from src/sources/registry.ts ('tcap', 'list'). */
  kind: string;
  /** JSON: the kind's configuration (secrets included; views redact them). */
  config: string;
  bank_id: number | null;
  enabled: ColumnType<number, number | undefined, number>;
  interval_seconds: number;
  /** Opaque to everything but the source; advanced in the transaction that stores the page it ends. */
  checkpoint: string | null;
  last_fetch_at: string | null;
  last_success_at: string | null;
  /** When a run last reached the end of what the source had. */
  caught_up_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
  /** Records the source said were still to fetch after the last page, when it says. */
  lag_records: number | null;
  records_upserted: ColumnType<number, number | undefined, number>;
  records_deleted: ColumnType<number, number | undefined, number>;
  records_quarantined: ColumnType<number, number | undefined, number>;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/** A record a source sent that could not be stored, kept with the reason. */
export interface SourceQuarantineTable {
  id: Generated<number>;
  subscription_id: number;
  reason: string;
  /** The record as received (JSON or the raw line), at most 8 KiB. */
  raw: string;
  created_at: string;
}

/** A crisis protocol version (src/crisis/protocols.ts): editing makes a new row, incidents keep theirs. */
export interface CrisisProtocolsTable {
  id: Generated<number>;
  owner_org_id: number | null;
  key: string;
  version: number;
  definition: string;
  created_by: string;
  created_at: string;
}

/** A member of a coordinator's crisis network, with its groups, roles, contacts and standing consent. */
export interface CrisisParticipantsTable {
  coordinator_org_id: number;
  member_org_id: number;
  groups: string;
  roles: string;
  contacts: string;
  accepts_incident_banks: number;
  incident_policy: string;
  created_at: string;
  updated_at: string;
}

export interface CrisisIncidentsTable {
  id: Generated<number>;
  org_id: number;
  title: string;
  summary: string;
  occurred_at: string | null;
  zone: string;
  countries: string;
  exercise: number;
  bank_id: number | null;
  created_by: string;
  created_at: string;
}

export interface CrisisActivationsTable {
  id: Generated<number>;
  incident_id: number;
  protocol_id: number;
  type_key: string | null;
  state: string;
  opened_at: string;
  activated_at: string | null;
  concluded_at: string | null;
  conclusion_basis: string | null;
  conclusion_text: string | null;
  not_activated_reason: string | null;
  human_rights: string | null;
}

export interface CrisisTransitionsTable {
  id: Generated<number>;
  activation_id: number;
  from_state: string;
  to_state: string;
  actor: string;
  at: string;
  zone: string;
  reason: string;
}

export interface CrisisCriteriaTable {
  id: Generated<number>;
  activation_id: number;
  criterion: string;
  met: number;
  evidence: string;
  note: string | null;
  actor: string;
  at: string;
}

export interface CrisisDecisionsTable {
  id: Generated<number>;
  activation_id: number;
  actor: string;
  actor_org_id: number;
  role: string;
  type_key: string;
  rationale: string;
  human_rights: string;
  at: string;
}

export interface CrisisNotificationsTable {
  id: Generated<number>;
  activation_id: number;
  member_org_id: number | null;
  recipient_group: string;
  contact_index: number;
  contact: string;
  token_hash: string;
  sent_at: string;
  due_at: string;
  acked_at: string | null;
  ack_via: string | null;
  ack_actor: string | null;
  late: Generated<number>;
  escalated_at: string | null;
}

export interface CrisisUpdatesTable {
  id: Generated<number>;
  incident_id: number;
  actor: string;
  at: string;
  text: string;
  numbers: string;
}

export interface CrisisTelemetryTable {
  incident_id: number;
  member_org_id: number;
  minute: string;
  matches: number;
  blocks: number;
  first_block_at: string | null;
}

export interface CrisisResourcesTable {
  id: Generated<number>;
  activation_id: number;
  kind: string;
  locale: string;
  title: string;
  url: string | null;
  message: string | null;
  created_by: string;
  created_at: string;
}

export interface CrisisFindingsTable {
  id: Generated<number>;
  incident_id: number;
  text: string;
  owner: string;
  due_at: string | null;
  status: string;
  created_by: string;
  created_at: string;
}

export interface CrisisDrillRunsTable {
  id: Generated<number>;
  incident_id: number;
  scenario: string;
  results: string | null;
  started_at: string;
  finished_at: string | null;
}

/** A member instance's Ed25519 key, registered by its organisation when it joined (one key per instance). */
export interface SharingMemberInstancesTable {
  org_id: number;
  instance_id: string;
  public_key: string;
  joined_by: string;
  joined_at: string;
  updated_at: string;
}

/** A contribution batch exactly as the contributing instance signed it (payload is the signed canonical JSON). */
export interface ContributionBatchesTable {
  id: Generated<number>;
  bank_id: number;
  org_id: number;
  instance_id: string;
  /** The batch's own id (chosen by the contributor): a batch sent twice is applied once. */
  batch_key: string;
  payload: string;
  signature: string;
  public_key: string;
  signed_at: string;
  received_at: string;
}

/** What each item of a batch did: the entry it added (or found already there) or retracted. */
export interface ContributionItemsTable {
  batch_id: number;
  item: number;
  bank_id: number;
  entry_id: number;
  op: string;
  /** added | present | retracted */
  outcome: string;
}
