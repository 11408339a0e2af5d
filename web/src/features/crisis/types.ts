/**
 * The crisis API's answers as the UI reads them (GET /v1/crisis/incidents and /v1/crisis/incidents/:id, built in
 * src/crisis/crisis-service.ts). Observers get the same record with `bank_id: null` and criteria `evidence: null`.
 */

/** An instant, and the same instant as local time in a zone (`local` carries its UTC offset). */
export interface Moment {
  at: string;
  zone: string;
  local: string;
}

export interface IncidentSummary {
  id: number;
  title: string;
  exercise: boolean;
  coordinator_org_id: number;
  created: Moment;
  states: string[];
  live: boolean;
}

export interface HumanRightsNote {
  necessity: string;
  proportionality: string;
  scope: string;
  bystander_content: boolean;
  bystander_decision?: string;
}

export interface CriterionAssertion {
  criterion: string;
  met: boolean;
  actor: string;
  asserted: Moment;
  note: string | null;
  /** Null for observers: references may point at the content itself. */
  evidence: string[] | null;
  evidence_count: number;
}

export interface Decision {
  actor: string;
  organisation_id: number;
  role: string;
  type: string;
  rationale: string;
  human_rights: HumanRightsNote;
  decided: Moment;
}

export interface Transition extends Moment {
  from: string;
  to: string;
  actor: string;
  reason: string;
}

export interface Activation {
  id: number;
  protocol: { key: string; version: number; name: string };
  type: string | null;
  type_label: string | null;
  state: string;
  next_states: string[];
  opened: Moment;
  activated: Moment | null;
  concluded: Moment | null;
  conclusion: { basis: string; text: string | null } | null;
  not_activated_reason: string | null;
  review_due: Moment | null;
  criteria: CriterionAssertion[];
  decisions: Decision[];
  transitions: Transition[];
}

export interface BankNumbers {
  distinct_items: number;
  total_hashes: number;
  added_after_conclusion: number;
  first_hash_at: string | null;
}

export interface MinuteTotals {
  /** UTC minute, `YYYY-MM-DDTHH:MM`. */
  minute: string;
  matches: number;
  blocks: number;
}

export interface MemberLive {
  organisation_id: number;
  matches: number;
  blocks: number;
  first_block_at: string | null;
  per_minute: MinuteTotals[];
}

export interface Update extends Moment {
  id: number;
  actor: string;
  text: string;
  numbers: BankNumbers;
}

export interface Incident {
  id: number;
  title: string;
  summary: string;
  exercise: boolean;
  coordinator_org_id: number;
  zone: string;
  countries: string[];
  occurred: Moment | null;
  created: Moment;
  created_by: string;
  bank_id: number | null;
  numbers: BankNumbers;
  members: MemberLive[];
  activations: Activation[];
  updates: Update[];
}

/** A protocol version as GET /v1/crisis/protocols/:key/versions gives it (the parts the page reads). */
export interface ProtocolVersion {
  key: string;
  version: number;
  definition: {
    name: string;
    types: {
      key: string;
      label: string;
      criteria: { key: string; label: string }[];
      hash_sharing: boolean;
    }[];
  };
}

/** One notification of an activation (GET /v1/crisis/incidents/:id/notifications, where the server has it). */
export interface Notification {
  id: number;
  activation_id: number;
  organisation_id: number | null;
  group: string;
  contact: { name: string };
  sent: Moment;
  due: Moment;
  acked: Moment | null;
  late: boolean;
}

/** The main path of an activation; `not_activated` ends it after awareness or assessing. */
export const MAIN_PATH = ['awareness', 'assessing', 'active', 'deescalating', 'concluded', 'debriefed'];

export const STATE_LABELS: Record<string, string> = {
  awareness: 'Awareness',
  assessing: 'Assessing',
  active: 'Active',
  deescalating: 'De-escalating',
  concluded: 'Concluded',
  debriefed: 'Debriefed',
  not_activated: 'Not activated',
};

export const CONCLUSION_BASES: [string, string][] = [
  ['volume_and_impact_decreased', 'Volume and impact have noticeably decreased'],
  ['time_since_offline_event', 'Time passed since the offline event'],
  ['member_feedback_low_reupload_attempts', 'Members report few re-upload attempts'],
  ['other', 'Other (say which below)'],
];

export const stateLabel = (state: string): string => STATE_LABELS[state] ?? state;

/** "2026-12-03 14:40:00 +13:00": a Moment's local time as people read it (the zone is named once per page). */
export function localTime(m: Pick<Moment, 'local'>): string {
  const found = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(.*)$/.exec(m.local);
  return found ? `${found[1]} ${found[2]} ${found[3] === 'Z' ? '+00:00' : found[3]}` : m.local;
}

/** An ISO instant as local time in `zone`, written like localTime(). */
export function inZone(iso: string, zone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    })
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  );
  const offset = parts.timeZoneName === 'GMT' ? '+00:00' : String(parts.timeZoneName).replace('GMT', '');
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${offset}`;
}
