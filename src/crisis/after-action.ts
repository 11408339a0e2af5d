/**
 * The after-action report of an incident (issue 12): what happened, when, who decided what and why, how fast the
 * network moved and what it prevented, and what is to be done next (findings with owners). Every figure is
 * computed here from the stored record (incident, activations, transitions, criteria, decisions, updates,
 * notifications, members' telemetry, the incident bank, findings); nothing is taken from the caller.
 *
 * Two variants: `full` for the coordinator and participants (crisis:read), and `public` for observers and anyone
 * in the network. The public variant is built field by field rather than by deleting from the full one, so a field
 * added to the full report stays out of the public one until someone decides it belongs there: it names no member
 * (members appear as counts and distributions), carries no contact, actor or evidence reference.
 */
import { ForbiddenError, NotFoundError, ValidationError } from '../core/errors.js';
import {
  CrisisAfterActionStore,
  type MemberTelemetry,
  type NotificationRow,
} from '../store/crisis-after-action.js';
import { CrisisFindingsStore, type FindingRow } from '../store/crisis-findings.js';
import type {
  ActivationRow,
  CriterionRow,
  DecisionRow,
  IncidentRow,
  TransitionRow,
  UpdateRow,
} from '../store/crisis.js';
import type { Db } from '../store/database.js';
import type { Transactions } from '../store/unit-of-work.js';
import {
  isoOrThrow,
  moment,
  parseDefinition,
  type BankNumbers,
  type CrisisCaller,
  type CrisisService,
  type HumanRightsNote,
  type Moment,
} from './crisis-service.js';
import type { ProtocolDefinition } from './protocols.js';

export const REPORT_VARIANTS = ['full', 'public'] as const;
export type ReportVariant = (typeof REPORT_VARIANTS)[number];

export const FINDING_STATUSES = ['open', 'done'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

export interface FindingInput {
  text: string;
  owner: string;
  due_at?: string;
}

export interface FindingChanges {
  status?: FindingStatus;
  owner?: string;
  /** null clears the due date. */
  due_at?: string | null;
}

export interface FindingView {
  id: number;
  incident_id: number;
  text: string;
  owner: string;
  status: string;
  due: Moment | null;
  created: Moment;
  created_by: string;
}

export interface TimelineEvent {
  at: string;
  /** The instant in the incident's zone, with its offset. */
  local: string;
  kind:
    | 'occurred'
    | 'reported'
    | 'transition'
    | 'criterion'
    | 'decision'
    | 'update'
    | 'notification_sent'
    | 'notification_acked'
    | 'notification_escalated'
    | 'first_hash'
    | 'first_block';
  activation_id: number | null;
  protocol: string | null;
  /** One line: what happened. */
  what: string;
  /** The words recorded with it: reason, rationale, note, update text. */
  text: string | null;
  /** Transitions: the states. */
  from?: string;
  to?: string;
  /** Full variant only: who recorded it, and the organisation concerned. */
  actor?: string | null;
  organisation?: { id: number; name: string } | null;
}

export interface NotificationLine {
  activation_id: number;
  protocol: string;
  group: string;
  /** Contacts of the recipient that were alerted (one row each in the record). */
  contacts: number;
  sent: Moment;
  due: Moment;
  acked: Moment | null;
  ack_delay_seconds: number | null;
  late: boolean;
  escalated: Moment | null;
  acked_by: string | null;
  ack_via: string | null;
}

export interface MemberLine {
  organisation_id: number;
  name: string;
  notifications: NotificationLine[];
  matches: number;
  blocks: number;
  first_block: Moment | null;
  first_block_after_first_hash_seconds: number | null;
}

export interface Stats {
  count: number;
  min: number | null;
  median: number | null;
  max: number | null;
}

export interface MembersSummary {
  members: number;
  notified: number;
  /** Members that acknowledged every notification they were sent. */
  acknowledged: number;
  /** Members with at least one notification not acknowledged. */
  not_acknowledged: number;
  /** Members late on at least one notification. */
  late: number;
  escalated: number;
  reporting: number;
  blocking: number;
  /** Per member, its first notification: sent → acknowledged. */
  ack_delay_seconds: Stats;
  first_block_after_first_hash_seconds: Stats;
  ack_delay_distribution: Record<string, number>;
  first_block_distribution: Record<string, number>;
}

export interface GroupNotifications {
  recipients: number;
  notifications: number;
  acknowledged: number;
  late: number;
  escalated: number;
}

export interface CriterionLine {
  criterion: string;
  label: string | null;
  met: boolean;
  asserted: Moment;
  note: string | null;
  evidence_count: number;
  actor?: string;
  evidence?: string[];
}

export interface DecisionLine {
  type: string;
  role: string;
  rationale: string;
  human_rights: HumanRightsNote;
  decided: Moment;
  actor?: string;
  organisation?: { id: number; name: string };
}

export interface ActivationSection {
  id: number;
  protocol: { key: string; version: number; name: string };
  type: string | null;
  type_label: string | null;
  hash_sharing: boolean;
  state: string;
  opened: Moment;
  activated: Moment | null;
  concluded: Moment | null;
  /** activated → concluded; null while not concluded. */
  duration_seconds: number | null;
  conclusion: { basis: string; text: string | null } | null;
  not_activated_reason: string | null;
  criteria: CriterionLine[];
  decisions: DecisionLine[];
}

export interface FindingLine {
  text: string;
  status: string;
  due: Moment | null;
  created: Moment;
  id?: number;
  owner?: string;
}

export interface AfterActionReport {
  report: 'crisis-after-action';
  variant: ReportVariant;
  generated: Moment;
  exercise: boolean;
  /** Set on an exercise: every page of the printed report carries it. */
  notice: string | null;
  incident: {
    id: number;
    title: string;
    summary: string;
    zone: string;
    countries: string[];
    coordinator: { organisation_id: number; name: string };
    reported: Moment;
    occurred: Moment | null;
    reported_by?: string;
  };
  times: {
    first_activation: Moment | null;
    activation_after_report_seconds: number | null;
    activation_after_occurrence_seconds: number | null;
    /** The first activation of a type that shares hashes (it opened the incident bank). */
    hash_sharing_activation: Moment | null;
    first_hash: Moment | null;
    first_hash_after_activation_seconds: number | null;
  };
  activations: ActivationSection[];
  bank: BankNumbers;
  impact: { matches: number; matches_prevented: number; members_reporting: number; members_blocking: number };
  notifications_by_group: Record<string, GroupNotifications>;
  members_summary: MembersSummary;
  /** Full variant only. */
  members?: MemberLine[];
  findings: { open: number; done: number; items: FindingLine[] };
  timeline: TimelineEvent[];
  methodology: string[];
}

export const EXERCISE_NOTICE = 'EXERCISE: this report describes a drill, not a real incident.';

const METHODOLOGY = [
  'Every figure is computed from the stored record of the incident when the report is generated; nothing is typed in.',
  'Times are stored in UTC and shown in the incident zone with their offset.',
  'Time to activation: the first transition of any activation to active, minus the time the incident was reported (and minus the time it occurred, when recorded).',
  'Time to first hash: the first entry of the incident bank, minus the first activation of a type that shares hashes.',
  'A notification is one alert of one recipient under one activation; its time sent is the earliest of its contacts, its acknowledgement the earliest of its contacts, its ack delay the difference.',
  'A notification is late when the record flags it late and no contact of the recipient acknowledged it in time.',
  'Per member, the ack delay distribution uses its first notification; a member counts as acknowledged when it acknowledged every notification.',
  "First block per member: the earliest first block its instance reported for the incident; its delay is measured from the incident bank's first hash.",
  'Matches prevented: the sum of the blocks members reported; matches: the sum of matches they reported.',
  'Visually distinct items: hashes of one signal type within matching distance of each other count as one item (PDQ distance 31 or less); total hashes counts every entry of the incident bank.',
  'Activation duration: from activation to conclusion.',
];

const DURATION_BUCKETS: [string, number][] = [
  ['0-15 min', 15 * 60],
  ['15-30 min', 30 * 60],
  ['30-60 min', 60 * 60],
  ['1-2 h', 2 * 3600],
  ['2-6 h', 6 * 3600],
  ['over 6 h', Infinity],
];

/** Seconds from one instant to another (null when either is missing). */
export function secondsBetween(
  from: string | null | undefined,
  to: string | null | undefined,
): number | null {
  if (!from || !to) return null;
  return Math.round((Date.parse(to) - Date.parse(from)) / 1000);
}

function stats(values: (number | null)[]): Stats {
  const known = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (known.length === 0) return { count: 0, min: null, median: null, max: null };
  const mid = Math.floor(known.length / 2);
  const median = known.length % 2 ? known[mid] : (known[mid - 1] + known[mid]) / 2;
  return { count: known.length, min: known[0], median, max: known.at(-1)! };
}

/** Counts of durations by bucket, in bucket order; null values (and negative ones, if named) apart. */
function distribution(values: (number | null)[], none: string, negative?: string): Record<string, number> {
  const out: Record<string, number> = {};
  if (negative) out[negative] = 0;
  for (const [label] of DURATION_BUCKETS) out[label] = 0;
  out[none] = 0;
  for (const v of values) {
    if (v === null) out[none]++;
    else if (v < 0 && negative) out[negative]++;
    else out[DURATION_BUCKETS.find(([, max]) => v <= max)![0]]++;
  }
  return out;
}

const earliest = (values: (string | null)[]): string | null =>
  values
    .filter((v): v is string => v !== null)
    .map((v) => new Date(v).toISOString())
    .sort()[0] ?? null;

/** Everything the report is computed from, read once. */
interface IncidentRecord {
  incident: IncidentRow;
  activations: ActivationRow[];
  protocols: Map<number, { key: string; version: number; definition: ProtocolDefinition }>;
  transitions: TransitionRow[];
  criteria: CriterionRow[];
  decisions: DecisionRow[];
  updates: UpdateRow[];
  notifications: NotificationRow[];
  telemetry: MemberTelemetry[];
  findings: FindingRow[];
  bank: BankNumbers;
  memberIds: number[];
  names: Map<number, string>;
}

/** One recipient's alert under one activation, from the rows of its contacts. */
function notificationLine(rows: NotificationRow[], protocol: string, zone: string): NotificationLine {
  const sent = earliest(rows.map((r) => r.sent_at))!;
  const due = earliest(rows.map((r) => r.due_at))!;
  const ackRow = rows
    .filter((r) => r.acked_at !== null)
    .sort((a, b) => Date.parse(a.acked_at!) - Date.parse(b.acked_at!))[0];
  const acked = ackRow ? new Date(ackRow.acked_at!).toISOString() : null;
  const escalated = earliest(rows.map((r) => r.escalated_at));
  // Acknowledged in time by any contact means the recipient was on time, whatever the other contacts' rows say.
  const onTime = rows.some((r) => r.acked_at !== null && r.late === 0);
  return {
    activation_id: rows[0].activation_id,
    protocol,
    group: rows[0].recipient_group,
    contacts: rows.length,
    sent: moment(sent, zone),
    due: moment(due, zone),
    acked: acked ? moment(acked, zone) : null,
    ack_delay_seconds: secondsBetween(sent, acked),
    late: !onTime && rows.some((r) => r.late === 1),
    escalated: escalated ? moment(escalated, zone) : null,
    acked_by: ackRow?.ack_actor ?? null,
    ack_via: ackRow?.ack_via ?? null,
  };
}

/** Notifications grouped by activation and recipient (a member, or a group when no organisation is named). */
function groupNotifications(rows: NotificationRow[]): NotificationRow[][] {
  const groups = new Map<string, NotificationRow[]>();
  for (const row of rows) {
    const key = `${row.activation_id}/${row.member_org_id ?? `group:${row.recipient_group}`}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups.values()];
}

export class AfterActionService {
  constructor(
    private readonly deps: {
      db: Db;
      transactions: Transactions;
      /** Visibility rules, the incident bank numbers and the clock come from the crisis engine. */
      crisis: CrisisService;
    },
  ) {}

  private now(): string {
    return this.deps.crisis.now().toISOString();
  }

  private async coordinated(caller: CrisisCaller, incidentId: number, db: Db): Promise<IncidentRow> {
    const incident = await this.deps.crisis.visibleIncident(caller, incidentId, db);
    if (incident.org_id !== caller.orgId)
      throw new ForbiddenError(
        `only the coordinating organisation records findings of incident ${incidentId}`,
        'KAI_ERR_NOT_THE_COORDINATOR',
      );
    return incident;
  }

  // Findings

  async addFinding(caller: CrisisCaller, incidentId: number, input: FindingInput): Promise<FindingView> {
    const text = input.text.trim();
    const owner = input.owner.trim();
    if (!text || !owner)
      throw new ValidationError('a finding needs its text and an owner', 'KAI_ERR_FINDING');
    const dueAt = input.due_at ? isoOrThrow(input.due_at, 'due_at') : null;
    return this.deps.transactions.run(caller.label, async (unit) => {
      const incident = await this.coordinated(caller, incidentId, unit.db);
      const row = await new CrisisFindingsStore(unit.db).insert({
        incident_id: incident.id,
        text,
        owner,
        due_at: dueAt,
        status: 'open',
        created_by: caller.label,
        created_at: this.now(),
      });
      await unit.audit({
        orgId: caller.orgId,
        action: 'crisis.finding.add',
        subjectType: 'crisis_finding',
        subjectId: row.id,
        detail: { incident_id: incident.id, owner, due_at: dueAt },
      });
      return findingView(row, incident.zone);
    });
  }

  async updateFinding(
    caller: CrisisCaller,
    findingId: number,
    changes: FindingChanges,
  ): Promise<FindingView> {
    if (changes.status !== undefined && !(FINDING_STATUSES as readonly string[]).includes(changes.status))
      throw new ValidationError(`status must be one of ${FINDING_STATUSES.join(', ')}`, 'KAI_ERR_FINDING');
    const owner = changes.owner?.trim();
    if (owner === '') throw new ValidationError('owner must not be empty', 'KAI_ERR_FINDING');
    const dueAt =
      changes.due_at === undefined ? undefined : changes.due_at && isoOrThrow(changes.due_at, 'due_at');
    return this.deps.transactions.run(caller.label, async (unit) => {
      const store = new CrisisFindingsStore(unit.db);
      const row = await store.get(findingId);
      const notFound = new NotFoundError(`finding ${findingId} not found`, 'KAI_ERR_FINDING_NOT_FOUND');
      if (!row) throw notFound;
      const incident = await this.coordinated(caller, row.incident_id, unit.db).catch((err: unknown) => {
        throw err instanceof NotFoundError ? notFound : err;
      });
      const set = {
        ...(changes.status !== undefined ? { status: changes.status } : {}),
        ...(owner !== undefined ? { owner } : {}),
        ...(dueAt !== undefined ? { due_at: dueAt } : {}),
      };
      if (Object.keys(set).length > 0) await store.update(findingId, set);
      await unit.audit({
        orgId: caller.orgId,
        action: 'crisis.finding.update',
        subjectType: 'crisis_finding',
        subjectId: findingId,
        detail: { incident_id: incident.id, ...set },
      });
      return findingView((await store.get(findingId))!, incident.zone);
    });
  }

  async findings(caller: CrisisCaller, incidentId: number): Promise<FindingView[]> {
    const incident = await this.deps.crisis.visibleIncident(caller, incidentId);
    const rows = await new CrisisFindingsStore(this.deps.db).forIncident(incident.id);
    return rows.map((row) => findingView(row, incident.zone));
  }

  // The report

  /** The variant a caller gets: observers only the public one; others the full one unless they ask otherwise. */
  variantFor(caller: CrisisCaller, requested?: ReportVariant): ReportVariant {
    if (caller.observer && requested === 'full')
      throw new ForbiddenError(
        'observers receive the public summary of the after-action report (variant=public)',
        'KAI_ERR_REPORT_VARIANT',
      );
    return requested ?? (caller.observer ? 'public' : 'full');
  }

  async report(
    caller: CrisisCaller,
    incidentId: number,
    requested?: ReportVariant,
  ): Promise<AfterActionReport> {
    const variant = this.variantFor(caller, requested);
    const record = await this.read(caller, incidentId);
    return buildReport(record, variant, this.now());
  }

  private async read(caller: CrisisCaller, incidentId: number): Promise<IncidentRecord> {
    const incident = await this.deps.crisis.visibleIncident(caller, incidentId);
    const store = this.deps.crisis.store();
    const reads = new CrisisAfterActionStore(this.deps.db);
    const activations = await store.activations(incident.id);
    const ids = activations.map((a) => a.id);
    const [transitions, criteria, decisions, updates, notifications, telemetry, findings, participants] =
      await Promise.all([
        store.transitions(ids),
        store.criteria(ids),
        store.decisions(ids),
        store.updates(incident.id),
        reads.notifications(ids),
        reads.telemetry(incident.id),
        new CrisisFindingsStore(this.deps.db).forIncident(incident.id),
        store.participants(incident.org_id),
      ]);
    const protocols: IncidentRecord['protocols'] = new Map();
    for (const a of activations) {
      const row = (await store.protocol(a.protocol_id))!;
      protocols.set(a.protocol_id, { key: row.key, version: row.version, definition: parseDefinition(row) });
    }
    // Members: the network's members group, and any organisation alerted as a member or reporting numbers.
    const memberIds = [
      ...new Set([
        ...participants
          .filter((p) => (JSON.parse(p.groups) as string[]).includes('members'))
          .map((p) => Number(p.member_org_id)),
        ...notifications
          .filter((n) => n.recipient_group === 'members' && n.member_org_id !== null)
          .map((n) => Number(n.member_org_id)),
        ...telemetry.map((t) => t.member_org_id),
      ]),
    ]
      .filter((id) => id !== Number(incident.org_id))
      .sort((a, b) => a - b);
    const names = await reads.organisationNames([
      Number(incident.org_id),
      ...memberIds,
      ...decisions.map((d) => Number(d.actor_org_id)),
      ...notifications.flatMap((n) => (n.member_org_id === null ? [] : [Number(n.member_org_id)])),
    ]);
    return {
      incident,
      activations,
      protocols,
      transitions,
      criteria,
      decisions,
      updates,
      notifications,
      telemetry,
      findings,
      bank: await this.deps.crisis.bankNumbers(store, incident),
      memberIds,
      names,
    };
  }
}

function findingView(row: FindingRow, zone: string): FindingView {
  return {
    id: row.id,
    incident_id: row.incident_id,
    text: row.text,
    owner: row.owner,
    status: row.status,
    due: row.due_at ? moment(row.due_at, zone) : null,
    created: moment(row.created_at, zone),
    created_by: row.created_by,
  };
}

/** The report, from the record alone. */
function buildReport(r: IncidentRecord, variant: ReportVariant, now: string): AfterActionReport {
  const full = variant === 'full';
  const zone = r.incident.zone;
  const at = (iso: string) => moment(new Date(iso).toISOString(), zone);
  const protocolOf = (activationId: number) => {
    const a = r.activations.find((x) => x.id === activationId)!;
    return r.protocols.get(a.protocol_id)!;
  };
  const org = (id: number) => ({ id, name: r.names.get(id) ?? `organisation ${id}` });

  const activeAt = r.transitions.filter((t) => t.to_state === 'active');
  const firstActivation = earliest(activeAt.map((t) => t.at));
  const sharesHashes = (activationId: number) => {
    const a = r.activations.find((x) => x.id === activationId)!;
    const types = protocolOf(activationId).definition.types;
    return types.find((t) => t.key === a.type_key)?.hash_sharing === true;
  };
  const bankActivation = earliest(activeAt.filter((t) => sharesHashes(t.activation_id)).map((t) => t.at));
  const firstHash = r.bank.first_hash_at ? new Date(r.bank.first_hash_at).toISOString() : null;

  // Notifications, one line per recipient and activation.
  const lines: RecipientLine[] = groupNotifications(r.notifications).map((rows) => ({
    memberId: rows[0].member_org_id === null ? null : Number(rows[0].member_org_id),
    line: notificationLine(rows, protocolOf(rows[0].activation_id).key, zone),
  }));
  const members = memberLines(r, lines, firstHash, at, org);
  const byGroup = notificationsByGroup(lines);
  const summary = membersSummary(members, new Set(r.telemetry.map((t) => t.member_org_id)));

  const activations = r.activations.map((a) => activationSection(r, a, full, at, org));
  const timeline = timelineOf(r, lines, members, firstHash, full, at, org);
  const openFindings = r.findings.filter((f) => f.status === 'open');
  // Open findings first (the work left), each group in the order raised.
  const findings = [...openFindings, ...r.findings.filter((f) => f.status !== 'open')];

  return {
    report: 'crisis-after-action',
    variant,
    generated: moment(now, zone),
    exercise: r.incident.exercise === 1,
    notice: r.incident.exercise === 1 ? EXERCISE_NOTICE : null,
    incident: {
      id: r.incident.id,
      title: r.incident.title,
      summary: r.incident.summary,
      zone,
      countries: JSON.parse(r.incident.countries) as string[],
      coordinator: { organisation_id: r.incident.org_id, name: org(r.incident.org_id).name },
      reported: at(r.incident.created_at),
      occurred: r.incident.occurred_at ? at(r.incident.occurred_at) : null,
      ...(full ? { reported_by: r.incident.created_by } : {}),
    },
    times: {
      first_activation: firstActivation ? at(firstActivation) : null,
      activation_after_report_seconds: secondsBetween(r.incident.created_at, firstActivation),
      activation_after_occurrence_seconds: secondsBetween(r.incident.occurred_at, firstActivation),
      hash_sharing_activation: bankActivation ? at(bankActivation) : null,
      first_hash: firstHash ? at(firstHash) : null,
      first_hash_after_activation_seconds: secondsBetween(bankActivation, firstHash),
    },
    activations,
    bank: r.bank,
    impact: {
      matches: r.telemetry.reduce((sum, t) => sum + t.matches, 0),
      matches_prevented: r.telemetry.reduce((sum, t) => sum + t.blocks, 0),
      members_reporting: summary.reporting,
      members_blocking: summary.blocking,
    },
    notifications_by_group: byGroup,
    members_summary: summary,
    ...(full ? { members } : {}),
    findings: {
      open: openFindings.length,
      done: r.findings.length - openFindings.length,
      items: findings.map((f) => ({
        ...(full ? { id: f.id } : {}),
        text: f.text,
        status: f.status,
        due: f.due_at ? at(f.due_at) : null,
        created: at(f.created_at),
        // An owner is often a member or a person in one: the public summary leaves it out.
        ...(full ? { owner: f.owner } : {}),
      })),
    },
    timeline,
    methodology: METHODOLOGY,
  };
}

type RecipientLine = { memberId: number | null; line: NotificationLine };

function memberLines(
  r: IncidentRecord,
  lines: RecipientLine[],
  firstHash: string | null,
  at: (iso: string) => Moment,
  org: (id: number) => { id: number; name: string },
): MemberLine[] {
  const telemetryOf = new Map(r.telemetry.map((t) => [t.member_org_id, t]));
  return r.memberIds.map((id) => {
    const t = telemetryOf.get(id);
    const firstBlock = t?.first_block_at ? new Date(t.first_block_at).toISOString() : null;
    return {
      organisation_id: id,
      name: org(id).name,
      notifications: lines
        .filter((l) => l.memberId === id && l.line.group === 'members')
        .map((l) => l.line)
        .sort((a, b) => a.sent.at.localeCompare(b.sent.at)),
      matches: t?.matches ?? 0,
      blocks: t?.blocks ?? 0,
      first_block: firstBlock ? at(firstBlock) : null,
      first_block_after_first_hash_seconds: secondsBetween(firstHash, firstBlock),
    };
  });
}

function notificationsByGroup(lines: RecipientLine[]): Record<string, GroupNotifications> {
  const byGroup: Record<string, GroupNotifications> = {};
  const recipients = new Map<string, Set<string>>();
  for (const { memberId, line } of lines) {
    const g = (byGroup[line.group] ??= {
      recipients: 0,
      notifications: 0,
      acknowledged: 0,
      late: 0,
      escalated: 0,
    });
    g.notifications++;
    if (line.acked) g.acknowledged++;
    if (line.late) g.late++;
    if (line.escalated) g.escalated++;
    const seen = recipients.get(line.group) ?? new Set<string>();
    recipients.set(line.group, seen.add(memberId === null ? 'the group' : String(memberId)));
    g.recipients = seen.size;
  }
  return byGroup;
}

/** The members as counts and distributions: what the public summary says of them. */
function membersSummary(members: MemberLine[], reporting: Set<number>): MembersSummary {
  const notified = members.filter((m) => m.notifications.length > 0);
  const ackDelays = notified.map((m) => m.notifications[0].ack_delay_seconds);
  const blockDelays = members.map((m) => m.first_block_after_first_hash_seconds);
  return {
    members: members.length,
    notified: notified.length,
    acknowledged: notified.filter((m) => m.notifications.every((n) => n.acked !== null)).length,
    not_acknowledged: notified.filter((m) => m.notifications.some((n) => n.acked === null)).length,
    late: members.filter((m) => m.notifications.some((n) => n.late)).length,
    escalated: members.filter((m) => m.notifications.some((n) => n.escalated !== null)).length,
    reporting: members.filter((m) => reporting.has(m.organisation_id)).length,
    blocking: members.filter((m) => m.blocks > 0).length,
    ack_delay_seconds: stats(ackDelays),
    first_block_after_first_hash_seconds: stats(blockDelays),
    ack_delay_distribution: distribution(ackDelays, 'not acknowledged'),
    first_block_distribution: distribution(blockDelays, 'no block reported', 'before the first hash'),
  };
}

function activationSection(
  r: IncidentRecord,
  a: ActivationRow,
  full: boolean,
  at: (iso: string) => Moment,
  org: (id: number) => { id: number; name: string },
): ActivationSection {
  const protocol = r.protocols.get(a.protocol_id)!;
  const types = protocol.definition.types;
  const type = types.find((t) => t.key === a.type_key);
  const labels = new Map(types.flatMap((t) => t.criteria.map((c) => [c.key, c.label] as const)));
  return {
    id: a.id,
    protocol: { key: protocol.key, version: protocol.version, name: protocol.definition.name },
    type: a.type_key,
    type_label: type?.label ?? null,
    hash_sharing: type?.hash_sharing ?? false,
    state: a.state,
    opened: at(a.opened_at),
    activated: a.activated_at ? at(a.activated_at) : null,
    concluded: a.concluded_at ? at(a.concluded_at) : null,
    duration_seconds: secondsBetween(a.activated_at, a.concluded_at),
    conclusion: a.conclusion_basis ? { basis: a.conclusion_basis, text: a.conclusion_text } : null,
    not_activated_reason: a.not_activated_reason,
    criteria: r.criteria
      .filter((c) => c.activation_id === a.id)
      .map((c) => {
        const evidence = JSON.parse(c.evidence) as string[];
        return {
          criterion: c.criterion,
          label: labels.get(c.criterion) ?? null,
          met: c.met === 1,
          asserted: at(c.at),
          note: c.note,
          evidence_count: evidence.length,
          // Evidence references may point at the content itself: never in the public summary.
          ...(full ? { actor: c.actor, evidence } : {}),
        };
      }),
    decisions: r.decisions
      .filter((d) => d.activation_id === a.id)
      .map((d) => ({
        type: d.type_key,
        role: d.role,
        rationale: d.rationale,
        human_rights: JSON.parse(d.human_rights) as HumanRightsNote,
        decided: at(d.at),
        ...(full ? { actor: d.actor, organisation: org(Number(d.actor_org_id)) } : {}),
      })),
  };
}

function timelineOf(
  r: IncidentRecord,
  lines: RecipientLine[],
  members: MemberLine[],
  firstHash: string | null,
  full: boolean,
  at: (iso: string) => Moment,
  org: (id: number) => { id: number; name: string },
): TimelineEvent[] {
  const events: TimelineEvent[] = [];
  const push = (
    when: string,
    kind: TimelineEvent['kind'],
    what: string,
    extra: Partial<TimelineEvent> & { who?: { actor?: string | null; organisation?: number | null } } = {},
  ) => {
    const { who, ...rest } = extra;
    const m = at(when);
    events.push({
      at: m.at,
      local: m.local,
      kind,
      activation_id: null,
      protocol: null,
      what,
      text: null,
      ...rest,
      ...(full
        ? {
            actor: who?.actor ?? null,
            organisation: who?.organisation != null ? org(who.organisation) : null,
          }
        : {}),
    });
  };
  const activation = (id: number) => {
    const a = r.activations.find((x) => x.id === id)!;
    return { a, protocol: r.protocols.get(a.protocol_id)!.key };
  };

  if (r.incident.occurred_at) push(r.incident.occurred_at, 'occurred', 'Incident occurred');
  push(r.incident.created_at, 'reported', 'Incident reported', {
    text: r.incident.title,
    who: { actor: r.incident.created_by, organisation: Number(r.incident.org_id) },
  });
  for (const t of r.transitions) {
    const { a, protocol } = activation(t.activation_id);
    const what =
      t.from_state === 'none'
        ? `Assessment opened under ${protocol}`
        : t.to_state === 'active' && t.from_state === 'assessing'
          ? `Activated: ${a.type_key ?? '?'}`
          : t.to_state === 'concluded' && a.conclusion_basis
            ? `Concluded (basis: ${a.conclusion_basis}${a.conclusion_text ? `: ${a.conclusion_text}` : ''})`
            : `${t.from_state} → ${t.to_state}`;
    push(t.at, 'transition', what, {
      activation_id: a.id,
      protocol,
      from: t.from_state,
      to: t.to_state,
      text: t.reason,
      who: { actor: t.actor },
    });
  }
  for (const c of r.criteria) {
    const { a, protocol } = activation(c.activation_id);
    push(c.at, 'criterion', `Criterion ${c.criterion} asserted ${c.met === 1 ? 'met' : 'not met'}`, {
      activation_id: a.id,
      protocol,
      text: c.note,
      who: { actor: c.actor },
    });
  }
  for (const d of r.decisions) {
    const { a, protocol } = activation(d.activation_id);
    push(d.at, 'decision', `Decision to activate ${d.type_key} (${d.role})`, {
      activation_id: a.id,
      protocol,
      text: d.rationale,
      who: { actor: d.actor, organisation: Number(d.actor_org_id) },
    });
  }
  for (const u of r.updates)
    push(u.at, 'update', 'Situational update', { text: u.text, who: { actor: u.actor } });
  for (const { memberId, line } of lines) {
    const base = {
      activation_id: line.activation_id,
      protocol: line.protocol,
      who: { organisation: memberId },
    };
    push(line.sent.at, 'notification_sent', `Notified (${line.group})`, base);
    if (line.acked)
      push(line.acked.at, 'notification_acked', `Acknowledged (${line.group})${line.late ? ', late' : ''}`, {
        ...base,
        who: { actor: line.acked_by, organisation: memberId },
      });
    if (line.escalated) push(line.escalated.at, 'notification_escalated', `Escalated (${line.group})`, base);
  }
  if (firstHash) push(firstHash, 'first_hash', 'First hash in the incident bank');
  for (const m of members)
    if (m.first_block)
      push(m.first_block.at, 'first_block', 'First block reported by a member', {
        who: { organisation: m.organisation_id },
      });
  // Stable: events at the same instant keep the order above (the record's own order).
  return events.sort((x, y) => x.at.localeCompare(y.at));
}
