/**
 * The crisis engine: a coordinator (GIFCT's secretariat, the Call's, a national agency, a hub operator) keeps a
 * network of participants and runs incidents. An incident carries one activation per protocol it is assessed
 * under (GIFCT, TCAP, the national process... at once), each with its own state machine, criteria asserted with
 * evidence, decisions with human-rights notes, and transitions recorded with actor, time, zone and reason.
 * Activating a type that shares hashes opens the incident bank: one shared bank with the incident's dedicated
 * label, offered to every member (and accepted for those that gave standing consent), whose entries carry
 * `crisis-active` while the incident is live so members can block at upload.
 */
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../core/errors.js';
import { isCrisisLabel } from '../store/labels.js';
import { CrisisNotificationStore } from '../store/crisis-notifications.js';
import { CrisisStore, type ActivationRow, type IncidentRow, type ParticipantRow } from '../store/crisis.js';
import type { Db } from '../store/database.js';
import type { Transactions, UnitOfWork } from '../store/unit-of-work.js';
import { decodeCursor, pageLimit, toPage, type Page } from '../store/pagination.js';
import { distinctItems } from './distinct-items.js';
import { liveNumbers } from './member-numbers.js';
import { resourceView } from './resource-view.js';
import { PRESETS } from './presets.js';
import {
  activationType,
  NOTIFY_GROUPS,
  type ActivationType,
  unusableBecause,
  validateDefinition,
  type NotifyGroup,
  type ProtocolDefinition,
} from './protocols.js';
import { allowedNext, CONCLUSION_BASES, isLive, STATES, type ActivationState } from './states.js';

export interface CrisisCaller {
  orgId: number;
  label: string;
  /** An observer sees the process, decisions, numbers and human-rights notes; never evidence, media or signals. */
  observer: boolean;
}

export interface Contact {
  name: string;
  /** A URL that receives signed notifications (must be on the operator's webhook allow-list). */
  webhook_url?: string;
  email?: string;
}

export interface ParticipantInput {
  groups: NotifyGroup[];
  roles: string[];
  contacts: Contact[];
  /** Standing consent: incident banks are accepted on activation, with this policy. */
  accepts_incident_banks: boolean;
  incident_policy?: string;
}

export interface HumanRightsNote {
  necessity: string;
  proportionality: string;
  scope: string;
  /** Bystander (witness) content is in scope only by an explicit decision. */
  bystander_content: boolean;
  bystander_decision?: string;
}

/** An activation's human-rights notes, one per decider, as recorded when it went active. */
export interface DecidersHumanRights extends HumanRightsNote {
  actor: string;
}

export interface IncidentInput {
  title: string;
  summary?: string;
  occurred_at?: string;
  zone?: string;
  countries?: string[];
  exercise?: boolean;
  protocols?: string[];
}

export interface TransitionInput {
  to: ActivationState;
  reason: string;
  zone?: string;
  /** For `active`: the activation type decided. */
  type?: string;
  /** For `concluded`: the basis, and its text when `other`. */
  basis?: (typeof CONCLUSION_BASES)[number];
  basis_text?: string;
}

export interface Moment {
  at: string;
  zone: string;
  /** The same instant in the zone, with its offset (e.g. 2026-12-03T23:00:00+13:00). */
  local: string;
}

const HOURS = 3_600_000;

export function validZone(zone: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone;
  } catch {
    throw new ValidationError(
      `"${zone}" is not an IANA time zone (e.g. Pacific/Auckland, UTC)`,
      'KAI_ERR_ZONE',
    );
  }
}

/** An instant in a zone, written as local time with its UTC offset. */
export function moment(at: string, zone: string): Moment {
  const date = new Date(at);
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
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  const offset = parts.timeZoneName === 'GMT' ? '+00:00' : String(parts.timeZoneName).replace('GMT', '');
  return {
    at,
    zone,
    local: `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`,
  };
}

export function isoOrThrow(value: string, field: string): string {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(date.getTime()))
    throw new ValidationError(`${field} must be an ISO 8601 date-time, got "${value}"`);
  return date.toISOString();
}

export function parseDefinition(row: { definition: string }): ProtocolDefinition {
  return JSON.parse(row.definition) as ProtocolDefinition;
}

export type ActivationNotifier = (
  unit: UnitOfWork,
  incident: IncidentRow,
  activation: ActivationRow,
  protocol: ProtocolDefinition,
  type: ActivationType,
) => Promise<void>;

export class CrisisService {
  /** The clock; tests move it. */
  now: () => Date = () => new Date();

  constructor(
    private readonly deps: {
      db: Db;
      transactions: Transactions;
      /** After the incident bank or its shares changed: bank rules and the index catch up. */
      afterBankWrite: () => Promise<void>;
      /** Told, in the transition's unit of work, of an activation that became active (notifications). */
      notifier?: ActivationNotifier;
    },
  ) {}

  store(db: Db = this.deps.db): CrisisStore {
    return new CrisisStore(db);
  }

  private run<T>(actor: string, fn: (unit: UnitOfWork, store: CrisisStore) => Promise<T>): Promise<T> {
    return this.deps.transactions.run(actor, (unit) => fn(unit, new CrisisStore(unit.db)));
  }

  private presetsStored: Promise<void> | null = null;

  /** Stores each preset shipped with this version that is not stored yet (a changed preset is a new version). */
  ensurePresets(): Promise<void> {
    this.presetsStored ??= this.storePresets().catch((err: unknown) => {
      this.presetsStored = null;
      throw err;
    });
    return this.presetsStored;
  }

  private async storePresets(): Promise<void> {
    const stored = await this.store().presets();
    for (const preset of PRESETS) {
      const same = stored.some((row) => row.key === preset.key && row.definition === JSON.stringify(preset));
      if (same) continue;
      await this.run('system', async (_unit, store) => {
        await store.insertProtocol({
          owner_org_id: null,
          key: preset.key,
          version: (await store.maxVersion(preset.key)) + 1,
          definition: JSON.stringify(preset),
          created_by: 'kaitiaki',
          created_at: this.now().toISOString(),
        });
      });
    }
  }

  // Protocols

  /** The newest version of every protocol the caller can use (its own versions shadow a preset's). */
  async protocols(caller: CrisisCaller): Promise<ProtocolView[]> {
    await this.ensurePresets();
    const rows = await this.store().protocols(caller.orgId);
    const latest = new Map<string, (typeof rows)[number]>();
    for (const row of rows) {
      const current = latest.get(row.key);
      if (!current || row.version > current.version) latest.set(row.key, row);
    }
    return [...latest.values()].map(protocolView);
  }

  async protocolVersions(caller: CrisisCaller, key: string): Promise<ProtocolView[]> {
    await this.ensurePresets();
    const rows = (await this.store().protocols(caller.orgId)).filter((r) => r.key === key);
    if (rows.length === 0)
      throw new NotFoundError(`no protocol "${key}"`, 'KAI_ERR_CRISIS_PROTOCOL_NOT_FOUND');
    return rows.map(protocolView);
  }

  private async latestProtocol(orgId: number, key: string) {
    await this.ensurePresets();
    const rows = (await this.store().protocols(orgId)).filter((r) => r.key === key);
    if (rows.length === 0)
      throw new NotFoundError(`no protocol "${key}"`, 'KAI_ERR_CRISIS_PROTOCOL_NOT_FOUND');
    return rows.reduce((a, b) => (b.version > a.version ? b : a));
  }

  /** Saves an edited protocol as a new version owned by the caller's organisation. */
  async saveProtocol(caller: CrisisCaller, definition: ProtocolDefinition): Promise<ProtocolView> {
    validateDefinition(definition);
    return this.run(caller.label, async (unit, store) => {
      const row = await store.insertProtocol({
        owner_org_id: caller.orgId,
        key: definition.key,
        version: (await store.maxVersion(definition.key)) + 1,
        definition: JSON.stringify(definition),
        created_by: caller.label,
        created_at: this.now().toISOString(),
      });
      await unit.audit({
        orgId: caller.orgId,
        action: 'crisis.protocol.save',
        subjectType: 'crisis_protocol',
        subjectId: row.id,
        detail: { key: row.key, version: row.version },
      });
      return protocolView(row);
    });
  }

  // The coordinator's network

  async participants(caller: CrisisCaller): Promise<ParticipantView[]> {
    return (await this.store().participants(caller.orgId)).map(participantView);
  }

  async setParticipant(
    caller: CrisisCaller,
    memberOrgId: number,
    input: ParticipantInput,
  ): Promise<ParticipantView> {
    for (const group of input.groups)
      if (!(NOTIFY_GROUPS as readonly string[]).includes(group))
        throw new ValidationError(`groups: "${group}" is not one of ${NOTIFY_GROUPS.join(', ')}`);
    for (const [i, contact] of input.contacts.entries())
      if (!contact.webhook_url && !contact.email)
        throw new ValidationError(`contacts[${i}] needs a webhook_url or an email`, 'KAI_ERR_CRISIS_CONTACT');
    return this.run(caller.label, async (unit, store) => {
      await unit.organisations.get(memberOrgId);
      const now = this.now().toISOString();
      await store.upsertParticipant({
        coordinator_org_id: caller.orgId,
        member_org_id: memberOrgId,
        groups: JSON.stringify([...new Set(input.groups)]),
        roles: JSON.stringify([...new Set(input.roles)]),
        contacts: JSON.stringify(input.contacts),
        accepts_incident_banks: input.accepts_incident_banks ? 1 : 0,
        incident_policy: input.incident_policy ?? 'block',
        created_at: now,
        updated_at: now,
      });
      await unit.audit({
        orgId: caller.orgId,
        action: 'crisis.participant.set',
        subjectType: 'organisation',
        subjectId: memberOrgId,
        detail: {
          groups: input.groups,
          roles: input.roles,
          accepts_incident_banks: input.accepts_incident_banks,
        },
      });
      return participantView((await store.participant(caller.orgId, memberOrgId))!);
    });
  }

  async removeParticipant(caller: CrisisCaller, memberOrgId: number): Promise<void> {
    await this.run(caller.label, async (unit, store) => {
      if ((await store.removeParticipant(caller.orgId, memberOrgId)) === 0)
        throw new NotFoundError(`organisation ${memberOrgId} is not in your crisis network`);
      await unit.audit({
        orgId: caller.orgId,
        action: 'crisis.participant.remove',
        subjectType: 'organisation',
        subjectId: memberOrgId,
      });
    });
  }

  // Incidents

  /** The incident if the caller may see it: its coordinator, or a participant of the coordinator's network. */
  async visibleIncident(caller: CrisisCaller, id: number, db: Db = this.deps.db): Promise<IncidentRow> {
    const store = this.store(db);
    const incident = await store.incident(id);
    const visible =
      incident &&
      (incident.org_id === caller.orgId ||
        (await store.participant(incident.org_id, caller.orgId)) !== undefined);
    if (!incident || !visible)
      throw new NotFoundError(`incident ${id} not found`, 'KAI_ERR_INCIDENT_NOT_FOUND');
    return incident;
  }

  private async coordinatedIncident(caller: CrisisCaller, id: number, db: Db): Promise<IncidentRow> {
    const incident = await this.visibleIncident(caller, id, db);
    if (incident.org_id !== caller.orgId)
      throw new ForbiddenError(
        `only the coordinating organisation runs incident ${id}`,
        'KAI_ERR_NOT_THE_COORDINATOR',
      );
    return incident;
  }

  async report(caller: CrisisCaller, input: IncidentInput): Promise<IncidentView> {
    const zone = validZone(input.zone ?? 'UTC');
    const occurredAt = input.occurred_at ? isoOrThrow(input.occurred_at, 'occurred_at') : null;
    const protocols = await Promise.all(
      [...new Set(input.protocols ?? [])].map((key) => this.latestProtocol(caller.orgId, key)),
    );
    for (const row of protocols) {
      const why = unusableBecause(parseDefinition(row));
      if (why)
        throw new ValidationError(
          `protocol ${row.key} cannot be used: ${why}`,
          'KAI_ERR_CRISIS_PROTOCOL_UNUSABLE',
        );
    }
    const id = await this.run(caller.label, async (unit, store) => {
      const now = this.now().toISOString();
      const incident = await store.insertIncident({
        org_id: caller.orgId,
        title: input.title.trim(),
        summary: input.summary ?? '',
        occurred_at: occurredAt,
        zone,
        countries: JSON.stringify(input.countries ?? []),
        exercise: input.exercise ? 1 : 0,
        bank_id: null,
        created_by: caller.label,
        created_at: now,
      });
      for (const protocol of protocols)
        await this.insertActivation(store, incident, protocol.id, caller, now);
      await unit.audit({
        orgId: caller.orgId,
        action: 'crisis.incident.report',
        subjectType: 'crisis_incident',
        subjectId: incident.id,
        detail: {
          title: incident.title,
          exercise: input.exercise ?? false,
          protocols: input.protocols ?? [],
        },
      });
      return incident.id;
    });
    return this.incident(caller, id);
  }

  private async insertActivation(
    store: CrisisStore,
    incident: IncidentRow,
    protocolId: number,
    caller: CrisisCaller,
    now: string,
  ): Promise<ActivationRow> {
    const activation = await store.insertActivation({
      incident_id: incident.id,
      protocol_id: protocolId,
      type_key: null,
      state: 'awareness',
      opened_at: now,
      activated_at: null,
      concluded_at: null,
      conclusion_basis: null,
      conclusion_text: null,
      not_activated_reason: null,
      human_rights: null,
    });
    await store.insertTransition({
      activation_id: activation.id,
      from_state: 'none',
      to_state: 'awareness',
      actor: caller.label,
      at: now,
      zone: incident.zone,
      reason: 'opened',
    });
    return activation;
  }

  /** Opens the incident's assessment under one more protocol. */
  async openActivation(caller: CrisisCaller, incidentId: number, protocolKey: string): Promise<IncidentView> {
    const row = await this.latestProtocol(caller.orgId, protocolKey);
    const why = unusableBecause(parseDefinition(row));
    if (why)
      throw new ValidationError(
        `protocol ${row.key} cannot be used: ${why}`,
        'KAI_ERR_CRISIS_PROTOCOL_UNUSABLE',
      );
    await this.run(caller.label, async (unit, store) => {
      const incident = await this.coordinatedIncident(caller, incidentId, unit.db);
      const existing = await store.activations(incident.id);
      for (const a of existing) {
        const p = await store.protocol(a.protocol_id);
        if (p?.key === protocolKey)
          throw new ConflictError(
            `incident ${incidentId} already has an activation under ${protocolKey} (activation ${a.id})`,
            'KAI_ERR_ACTIVATION_EXISTS',
          );
      }
      const activation = await this.insertActivation(
        store,
        incident,
        row.id,
        caller,
        this.now().toISOString(),
      );
      await unit.audit({
        orgId: caller.orgId,
        action: 'crisis.activation.open',
        subjectType: 'crisis_activation',
        subjectId: activation.id,
        detail: { incident_id: incidentId, protocol: protocolKey, version: row.version },
      });
    });
    return this.incident(caller, incidentId);
  }

  private async activationOf(caller: CrisisCaller, activationId: number, db: Db) {
    const store = this.store(db);
    const activation = await store.activation(activationId);
    if (!activation)
      throw new NotFoundError(`activation ${activationId} not found`, 'KAI_ERR_ACTIVATION_NOT_FOUND');
    const incident = await this.visibleIncident(caller, activation.incident_id, db).catch(() => {
      throw new NotFoundError(`activation ${activationId} not found`, 'KAI_ERR_ACTIVATION_NOT_FOUND');
    });
    const protocol = parseDefinition((await store.protocol(activation.protocol_id))!);
    return { activation, incident, protocol, store };
  }

  /** Roles the caller's organisation holds in the coordinator's network. */
  private async rolesOf(store: CrisisStore, incident: IncidentRow, orgId: number): Promise<string[]> {
    const participant = await store.participant(incident.org_id, orgId);
    return participant ? (JSON.parse(participant.roles) as string[]) : [];
  }

  async assertCriterion(
    caller: CrisisCaller,
    activationId: number,
    input: { criterion: string; met: boolean; evidence?: string[]; note?: string },
  ): Promise<IncidentView> {
    const incidentId = await this.run(caller.label, async (unit) => {
      const { activation, incident, protocol, store } = await this.activationOf(
        caller,
        activationId,
        unit.db,
      );
      if (activation.state !== 'awareness' && activation.state !== 'assessing')
        throw new ConflictError(
          `criteria are asserted while an activation is in awareness or assessing; activation ${activationId} is ${activation.state}`,
          'KAI_ERR_ACTIVATION_STATE',
        );
      const known = new Set(protocol.types.flatMap((t) => t.criteria.map((c) => c.key)));
      if (!known.has(input.criterion))
        throw new ValidationError(
          `protocol ${protocol.key} has no criterion "${input.criterion}"; it has ${[...known].join(', ')}`,
          'KAI_ERR_CRISIS_CRITERION',
        );
      await store.insertCriterion({
        activation_id: activationId,
        criterion: input.criterion,
        met: input.met ? 1 : 0,
        evidence: JSON.stringify(input.evidence ?? []),
        note: input.note ?? null,
        actor: caller.label,
        at: this.now().toISOString(),
      });
      await unit.audit({
        orgId: caller.orgId,
        action: 'crisis.criterion.assert',
        subjectType: 'crisis_activation',
        subjectId: activationId,
        detail: { criterion: input.criterion, met: input.met },
      });
      return incident.id;
    });
    return this.incident(caller, incidentId);
  }

  /** One decider's decision to activate a type, with its rationale and human-rights note. */
  async decide(
    caller: CrisisCaller,
    activationId: number,
    input: { type: string; rationale: string; human_rights: HumanRightsNote },
  ): Promise<IncidentView> {
    if (input.human_rights.bystander_content && !input.human_rights.bystander_decision?.trim())
      throw new ValidationError(
        'human_rights.bystander_decision is required when bystander content is brought into scope',
        'KAI_ERR_CRISIS_HUMAN_RIGHTS',
      );
    const incidentId = await this.run(caller.label, async (unit) => {
      const { activation, incident, protocol, store } = await this.activationOf(
        caller,
        activationId,
        unit.db,
      );
      activationType(protocol, input.type);
      if (activation.state !== 'assessing')
        throw new ConflictError(
          `decisions are recorded while an activation is assessing; activation ${activationId} is ${activation.state}`,
          'KAI_ERR_ACTIVATION_STATE',
        );
      const roles = await this.rolesOf(store, incident, caller.orgId);
      const role = roles.find((r) => protocol.activation.decider_roles.includes(r));
      if (!role)
        throw new ForbiddenError(
          `under ${protocol.key} an activation is decided by ${protocol.activation.decider_roles.join(' or ')}; your organisation holds ${roles.join(', ') || 'no role'} in this network`,
          'KAI_ERR_NOT_A_DECIDER',
        );
      await store.insertDecision({
        activation_id: activationId,
        actor: caller.label,
        actor_org_id: caller.orgId,
        role,
        type_key: input.type,
        rationale: input.rationale,
        human_rights: JSON.stringify(input.human_rights),
        at: this.now().toISOString(),
      });
      await unit.audit({
        orgId: caller.orgId,
        action: 'crisis.decision',
        subjectType: 'crisis_activation',
        subjectId: activationId,
        detail: { type: input.type, role, bystander_content: input.human_rights.bystander_content },
      });
      return incident.id;
    });
    return this.incident(caller, incidentId);
  }

  async transition(
    caller: CrisisCaller,
    activationId: number,
    input: TransitionInput,
  ): Promise<IncidentView> {
    if (!(STATES as readonly string[]).includes(input.to))
      throw new ValidationError(`"${input.to}" is not a state; states are ${STATES.join(', ')}`);
    const incidentId = await this.run(caller.label, async (unit) => {
      const { activation, incident, protocol, store } = await this.activationOf(
        caller,
        activationId,
        unit.db,
      );
      if (incident.org_id !== caller.orgId)
        throw new ForbiddenError(
          `only the coordinating organisation moves activation ${activationId}`,
          'KAI_ERR_NOT_THE_COORDINATOR',
        );
      const from = activation.state as ActivationState;
      const allowed = allowedNext(from);
      if (!allowed.includes(input.to))
        throw new ConflictError(
          `activation ${activationId} is ${from}; from there it can go to ${allowed.join(', ') || 'nowhere (final)'}, not ${input.to}`,
          'KAI_ERR_TRANSITION',
        );
      const zone = validZone(input.zone ?? incident.zone);
      const now = this.now().toISOString();
      const changes = await this.changesFor(store, activation, protocol, input, now, from);
      if ((await store.moveActivation(activationId, from, { state: input.to, ...changes })) === 0)
        throw new ConflictError(
          `activation ${activationId} changed meanwhile; read it again`,
          'KAI_ERR_TRANSITION',
        );
      await store.insertTransition({
        activation_id: activationId,
        from_state: from,
        to_state: input.to,
        actor: caller.label,
        at: now,
        zone,
        reason: input.reason,
      });
      // Re-escalation (from deescalating) keeps the type decided at activation.
      const typeKey = changes.type_key ?? activation.type_key;
      if (input.to === 'active' && this.deps.notifier)
        await this.deps.notifier(
          unit,
          incident,
          { ...activation, ...changes, state: input.to },
          protocol,
          activationType(protocol, typeKey!),
        );
      if (input.to === 'active' && activationType(protocol, typeKey!).hash_sharing)
        await this.openIncidentBank(unit, store, incident);
      await this.markBank(unit, store, incident);
      await unit.audit({
        orgId: caller.orgId,
        action: 'crisis.transition',
        subjectType: 'crisis_activation',
        subjectId: activationId,
        detail: {
          from,
          to: input.to,
          reason: input.reason,
          ...(changes.type_key ? { type: changes.type_key } : {}),
        },
      });
      return incident.id;
    });
    return this.incident(caller, incidentId);
  }

  /** What a transition writes besides the state, after checking what it needs. */
  private async changesFor(
    store: CrisisStore,
    activation: ActivationRow,
    protocol: ProtocolDefinition,
    input: TransitionInput,
    now: string,
    from: ActivationState,
  ): Promise<Partial<ActivationRow>> {
    switch (input.to) {
      case 'active':
        if (from === 'deescalating') return {}; // re-escalation keeps the decided type
        return this.activationGate(store, activation, protocol, input, now);
      case 'not_activated':
        return { not_activated_reason: input.reason };
      case 'concluded': {
        if (!input.basis)
          throw new ValidationError(
            `concluding needs a basis: one of ${CONCLUSION_BASES.join(', ')}`,
            'KAI_ERR_CONCLUSION_BASIS',
          );
        if (input.basis === 'other' && !input.basis_text?.trim())
          throw new ValidationError('basis "other" needs basis_text', 'KAI_ERR_CONCLUSION_BASIS');
        return {
          concluded_at: now,
          conclusion_basis: input.basis,
          conclusion_text: input.basis_text ?? null,
        };
      }
      default:
        return {};
    }
  }

  /**
   * Activation needs every criterion of the type asserted as met (the latest assertion of each counts), and
   * decisions for that type by as many distinct people holding a deciding role as the protocol asks.
   */
  private async activationGate(
    store: CrisisStore,
    activation: ActivationRow,
    protocol: ProtocolDefinition,
    input: TransitionInput,
    now: string,
  ): Promise<Partial<ActivationRow>> {
    if (!input.type)
      throw new ValidationError(
        `activating needs the type decided: one of ${protocol.types.map((t) => t.key).join(', ')}`,
        'KAI_ERR_CRISIS_TYPE',
      );
    const type = activationType(protocol, input.type);
    const latest = new Map<string, boolean>();
    for (const row of await store.criteria([activation.id])) latest.set(row.criterion, row.met === 1);
    const unmet = type.criteria.filter((c) => latest.get(c.key) !== true).map((c) => c.key);
    if (unmet.length > 0)
      throw new ConflictError(
        `${type.key} needs every criterion asserted as met; not met or not asserted: ${unmet.join(', ')}`,
        'KAI_ERR_CRITERIA_UNMET',
      );
    const decisions = (await store.decisions([activation.id])).filter((d) => d.type_key === type.key);
    const deciders = new Set(decisions.map((d) => d.actor));
    const needed = protocol.activation.min_deciders;
    if (deciders.size < needed)
      throw new ConflictError(
        `${protocol.key} needs decisions to activate ${type.key} by ${needed} distinct people holding ${protocol.activation.decider_roles.join(' or ')}; ${deciders.size} recorded${deciders.size ? ` (${[...deciders].join(', ')})` : ''}`,
        'KAI_ERR_DECIDERS_MISSING',
      );
    return {
      type_key: type.key,
      activated_at: now,
      human_rights: JSON.stringify(
        decisions.map((d) => ({ actor: d.actor, ...(JSON.parse(d.human_rights) as HumanRightsNote) })),
      ),
    };
  }

  /**
   * The incident bank, made at the first activation that shares hashes: owned by the coordinator, offered to
   * every member (who may contribute), and accepted at once for members who gave standing consent.
   */
  private async openIncidentBank(unit: UnitOfWork, store: CrisisStore, incident: IncidentRow): Promise<void> {
    if (incident.bank_id !== null) return;
    const bank = await unit.banks.create(incident.org_id, {
      name: `incident-${incident.id}`,
      description: `Incident bank: ${incident.title}${incident.exercise ? ' (exercise)' : ''}`,
      defaultLabels: [`incident:${incident.id}`, 'crisis-active'],
    });
    incident.bank_id = bank.id;
    await store.updateIncident(incident.id, { bank_id: bank.id });
    const members = (await store.participants(incident.org_id)).filter(
      (p) => p.member_org_id !== incident.org_id && (JSON.parse(p.groups) as string[]).includes('members'),
    );
    for (const member of members) {
      await unit.banks.share(incident.org_id, bank.id, member.member_org_id, 'contribute');
      if (member.accepts_incident_banks === 1)
        await unit.banks.acceptShare(member.member_org_id, bank.id, member.incident_policy);
    }
    await unit.audit({
      orgId: incident.org_id,
      action: 'crisis.bank.open',
      subjectType: 'bank',
      subjectId: bank.id,
      detail: {
        incident_id: incident.id,
        offered_to: members.map((m) => m.member_org_id),
        accepted_by: members.filter((m) => m.accepts_incident_banks === 1).map((m) => m.member_org_id),
      },
    });
    unit.onCommit(() => this.deps.afterBankWrite());
  }

  /**
   * Keeps the incident bank's labels in step with the incident: `crisis-active` on every entry while any
   * activation is live, `after-conclusion` on entries added after the first conclusion. Each relabelled entry
   * gets a new change number, so members following the bank receive the change with priority.
   */
  private async markBank(unit: UnitOfWork, store: CrisisStore, incident: IncidentRow): Promise<void> {
    if (incident.bank_id === null) return;
    const activations = await store.activations(incident.id);
    const live = activations.some((a) => isLive(a.state));
    const concludedAt = activations
      .map((a) => a.concluded_at)
      .filter((at): at is string => at !== null && !live)
      .sort()[0];
    const dedicated = `incident:${incident.id}`;
    const defaults = [dedicated, ...(live ? ['crisis-active'] : concludedAt ? ['after-conclusion'] : [])];
    const bank = await unit.banks.getOwned(incident.org_id, incident.bank_id);
    const current = bank.defaultLabels;
    if (current.length === defaults.length && current.every((l, i) => l === defaults[i])) return;
    await unit.banks.update(incident.org_id, incident.bank_id, { defaultLabels: defaults });
    await unit.entries.relabelBank(incident.bank_id, (labels, createdAt) => {
      const own = labels.filter((l) => !isCrisisLabel(l));
      const marks = [dedicated];
      if (live) marks.push('crisis-active');
      else if (labels.includes('after-conclusion') || (concludedAt && createdAt > concludedAt))
        marks.push('after-conclusion');
      return [...own, ...marks];
    });
    unit.onCommit(() => this.deps.afterBankWrite());
  }

  async postUpdate(caller: CrisisCaller, incidentId: number, text: string): Promise<IncidentView> {
    await this.run(caller.label, async (unit, store) => {
      const incident = await this.coordinatedIncident(caller, incidentId, unit.db);
      await store.insertUpdate({
        incident_id: incident.id,
        actor: caller.label,
        at: this.now().toISOString(),
        text,
        numbers: JSON.stringify(await this.bankNumbers(store, incident)),
      });
      await unit.audit({
        orgId: caller.orgId,
        action: 'crisis.update',
        subjectType: 'crisis_incident',
        subjectId: incident.id,
      });
    });
    return this.incident(caller, incidentId);
  }

  /** The two numbers GIFCT publishes (visually distinct items, total hashes), and hashes added after conclusion. */
  async bankNumbers(store: CrisisStore, incident: IncidentRow): Promise<BankNumbers> {
    if (incident.bank_id === null)
      return { distinct_items: 0, total_hashes: 0, added_after_conclusion: 0, first_hash_at: null };
    const signals = await store.bankSignals(incident.bank_id);
    const activations = await store.activations(incident.id);
    const concluded = activations
      .map((a) => a.concluded_at)
      .filter((at): at is string => at !== null)
      .sort()[0];
    return {
      distinct_items: distinctItems(signals),
      total_hashes: signals.length,
      added_after_conclusion: concluded ? signals.filter((s) => s.created_at > concluded).length : 0,
      first_hash_at: signals.map((s) => s.created_at).sort()[0] ?? null,
    };
  }

  async list(
    caller: CrisisCaller,
    options: { cursor?: string; limit?: number; exercise?: boolean },
  ): Promise<Page<IncidentSummary>> {
    const store = this.store();
    const orgIds = [caller.orgId, ...(await store.coordinatorsOf(caller.orgId))];
    const limit = pageLimit(options.limit);
    const rows = await store.incidents([...new Set(orgIds)], decodeCursor(options.cursor), limit);
    const page = toPage(rows, limit, (row) => row);
    const items: IncidentSummary[] = [];
    for (const row of page.items) {
      if (options.exercise !== undefined && (row.exercise === 1) !== options.exercise) continue;
      const activations = await store.activations(row.id);
      items.push({
        id: row.id,
        title: row.title,
        exercise: row.exercise === 1,
        coordinator_org_id: row.org_id,
        created: moment(row.created_at, row.zone),
        states: activations.map((a) => a.state),
        live: activations.some((a) => isLive(a.state)),
      });
    }
    return { items, nextCursor: page.nextCursor };
  }

  /** The whole record of an incident, as the caller may see it. */
  async incident(caller: CrisisCaller, id: number) {
    const incident = await this.visibleIncident(caller, id);
    const store = this.store();
    const activations = await store.activations(id);
    const ids = activations.map((a) => a.id);
    const [transitions, criteria, decisions, updates, resources] = await Promise.all([
      store.transitions(ids),
      store.criteria(ids),
      store.decisions(ids),
      store.updates(id),
      new CrisisNotificationStore(this.deps.db).resources(ids),
    ]);
    const protocols = new Map<number, { key: string; version: number; definition: ProtocolDefinition }>();
    for (const a of activations) {
      const row = (await store.protocol(a.protocol_id))!;
      protocols.set(a.protocol_id, { key: row.key, version: row.version, definition: parseDefinition(row) });
    }
    const zone = incident.zone;
    return {
      id: incident.id,
      title: incident.title,
      summary: incident.summary,
      exercise: incident.exercise === 1,
      coordinator_org_id: incident.org_id,
      zone,
      countries: JSON.parse(incident.countries) as string[],
      occurred: incident.occurred_at ? moment(incident.occurred_at, zone) : null,
      created: moment(incident.created_at, zone),
      created_by: incident.created_by,
      // An observer learns that hashes are shared and how many, never which bank holds them.
      bank_id: caller.observer ? null : incident.bank_id,
      numbers: await this.bankNumbers(store, incident),
      /** Members' own numbers (matches and blocks per minute, first block), as they report them. */
      members: await liveNumbers(store, incident.id),
      activations: activations.map((a) => {
        const protocol = protocols.get(a.protocol_id)!;
        const review =
          a.activated_at && isLive(a.state)
            ? new Date(
                new Date(a.activated_at).getTime() + protocol.definition.review_after_hours * HOURS,
              ).toISOString()
            : null;
        return {
          id: a.id,
          protocol: { key: protocol.key, version: protocol.version, name: protocol.definition.name },
          type: a.type_key,
          type_label: a.type_key
            ? (protocol.definition.types.find((t) => t.key === a.type_key)?.label ?? null)
            : null,
          state: a.state,
          next_states: [...allowedNext(a.state as ActivationState)],
          opened: moment(a.opened_at, zone),
          activated: a.activated_at ? moment(a.activated_at, zone) : null,
          concluded: a.concluded_at ? moment(a.concluded_at, zone) : null,
          conclusion: a.conclusion_basis ? { basis: a.conclusion_basis, text: a.conclusion_text } : null,
          not_activated_reason: a.not_activated_reason,
          review_due: review ? moment(review, zone) : null,
          human_rights: a.human_rights ? (JSON.parse(a.human_rights) as DecidersHumanRights[]) : [],
          criteria: criteria
            .filter((c) => c.activation_id === a.id)
            .map((c) => ({
              criterion: c.criterion,
              met: c.met === 1,
              actor: c.actor,
              asserted: moment(c.at, zone),
              note: c.note,
              // Evidence references may point at the content itself: not for observers.
              evidence: caller.observer ? null : (JSON.parse(c.evidence) as string[]),
              evidence_count: (JSON.parse(c.evidence) as string[]).length,
            })),
          decisions: decisions
            .filter((d) => d.activation_id === a.id)
            .map((d) => ({
              actor: d.actor,
              organisation_id: d.actor_org_id,
              role: d.role,
              type: d.type_key,
              rationale: d.rationale,
              human_rights: JSON.parse(d.human_rights) as HumanRightsNote,
              decided: moment(d.at, zone),
            })),
          transitions: transitions
            .filter((t) => t.activation_id === a.id)
            .map((t) => ({
              from: t.from_state,
              to: t.to_state,
              actor: t.actor,
              reason: t.reason,
              ...moment(t.at, t.zone),
            })),
        };
      }),
      updates: updates.map((u) => ({
        id: u.id,
        actor: u.actor,
        text: u.text,
        numbers: JSON.parse(u.numbers) as BankNumbers,
        ...moment(u.at, zone),
      })),
      /** Intervention resources of the activations (redirects, counter-speech, crisis support). */
      resources: resources.map(resourceView),
    };
  }
}

export interface BankNumbers {
  distinct_items: number;
  total_hashes: number;
  added_after_conclusion: number;
  first_hash_at: string | null;
}

export interface ProtocolView {
  id: number;
  key: string;
  version: number;
  preset: boolean;
  owner_organisation_id: number | null;
  usable: boolean;
  unusable_because: string | null;
  definition: ProtocolDefinition;
  created_at: string;
}

function protocolView(row: {
  id: number;
  key: string;
  version: number;
  owner_org_id: number | null;
  definition: string;
  created_at: string;
}): ProtocolView {
  const definition = parseDefinition(row);
  const why = unusableBecause(definition);
  return {
    id: row.id,
    key: row.key,
    version: row.version,
    preset: row.owner_org_id === null,
    owner_organisation_id: row.owner_org_id,
    usable: why === null,
    unusable_because: why,
    definition,
    created_at: row.created_at,
  };
}

export interface ParticipantView {
  organisation_id: number;
  groups: string[];
  roles: string[];
  contacts: Contact[];
  accepts_incident_banks: boolean;
  incident_policy: string;
  updated_at: string;
}

function participantView(row: ParticipantRow): ParticipantView {
  return {
    organisation_id: row.member_org_id,
    groups: JSON.parse(row.groups) as string[],
    roles: JSON.parse(row.roles) as string[],
    contacts: JSON.parse(row.contacts) as Contact[],
    accepts_incident_banks: row.accepts_incident_banks === 1,
    incident_policy: row.incident_policy,
    updated_at: row.updated_at,
  };
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

export type IncidentView = Awaited<ReturnType<CrisisService['incident']>>;
