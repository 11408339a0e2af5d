/** SQL for crisis response (src/crisis/). Rows only; the rules live there. */
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from './database.js';
import type {
  CrisisActivationsTable,
  CrisisCriteriaTable,
  CrisisDecisionsTable,
  CrisisIncidentsTable,
  CrisisParticipantsTable,
  CrisisProtocolsTable,
  CrisisTelemetryTable,
  CrisisTransitionsTable,
  CrisisUpdatesTable,
} from './schema.js';

export type ProtocolRow = Selectable<CrisisProtocolsTable>;
export type ParticipantRow = Selectable<CrisisParticipantsTable>;
export type IncidentRow = Selectable<CrisisIncidentsTable>;
export type ActivationRow = Selectable<CrisisActivationsTable>;
export type TransitionRow = Selectable<CrisisTransitionsTable>;
export type CriterionRow = Selectable<CrisisCriteriaTable>;
export type DecisionRow = Selectable<CrisisDecisionsTable>;
export type UpdateRow = Selectable<CrisisUpdatesTable>;
export type TelemetryRow = Selectable<CrisisTelemetryTable>;

export class CrisisStore {
  constructor(private readonly db: Db) {}

  // Protocols

  /** Every version an organisation can use: the presets and its own, newest version of each key last. */
  async protocols(orgId: number): Promise<ProtocolRow[]> {
    return this.db
      .selectFrom('crisis_protocols')
      .selectAll()
      .where((eb) => eb.or([eb('owner_org_id', 'is', null), eb('owner_org_id', '=', orgId)]))
      .orderBy('key')
      .orderBy('version')
      .execute();
  }

  async protocol(id: number): Promise<ProtocolRow | undefined> {
    return this.db.selectFrom('crisis_protocols').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async presets(): Promise<ProtocolRow[]> {
    return this.db.selectFrom('crisis_protocols').selectAll().where('owner_org_id', 'is', null).execute();
  }

  async maxVersion(key: string): Promise<number> {
    const row = await this.db
      .selectFrom('crisis_protocols')
      .select((eb) => eb.fn.max<number>('version').as('v'))
      .where('key', '=', key)
      .executeTakeFirst();
    return Number(row?.v ?? 0);
  }

  async insertProtocol(row: Insertable<CrisisProtocolsTable>): Promise<ProtocolRow> {
    return this.db.insertInto('crisis_protocols').values(row).returningAll().executeTakeFirstOrThrow();
  }

  // Participants

  async participants(coordinatorOrgId: number): Promise<ParticipantRow[]> {
    return this.db
      .selectFrom('crisis_participants')
      .selectAll()
      .where('coordinator_org_id', '=', coordinatorOrgId)
      .orderBy('member_org_id')
      .execute();
  }

  async participant(coordinatorOrgId: number, memberOrgId: number): Promise<ParticipantRow | undefined> {
    return this.db
      .selectFrom('crisis_participants')
      .selectAll()
      .where('coordinator_org_id', '=', coordinatorOrgId)
      .where('member_org_id', '=', memberOrgId)
      .executeTakeFirst();
  }

  async upsertParticipant(row: Insertable<CrisisParticipantsTable>): Promise<void> {
    await this.db
      .insertInto('crisis_participants')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['coordinator_org_id', 'member_org_id']).doUpdateSet({
          groups: row.groups,
          roles: row.roles,
          contacts: row.contacts,
          accepts_incident_banks: row.accepts_incident_banks,
          incident_policy: row.incident_policy,
          updated_at: row.updated_at,
        }),
      )
      .execute();
  }

  async removeParticipant(coordinatorOrgId: number, memberOrgId: number): Promise<number> {
    const result = await this.db
      .deleteFrom('crisis_participants')
      .where('coordinator_org_id', '=', coordinatorOrgId)
      .where('member_org_id', '=', memberOrgId)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Coordinators whose network an organisation belongs to. */
  async coordinatorsOf(memberOrgId: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('crisis_participants')
      .select('coordinator_org_id')
      .where('member_org_id', '=', memberOrgId)
      .execute();
    return rows.map((r) => r.coordinator_org_id);
  }

  // Incidents and activations

  async insertIncident(row: Insertable<CrisisIncidentsTable>): Promise<IncidentRow> {
    return this.db.insertInto('crisis_incidents').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async incident(id: number): Promise<IncidentRow | undefined> {
    return this.db.selectFrom('crisis_incidents').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async updateIncident(id: number, changes: Updateable<CrisisIncidentsTable>): Promise<void> {
    await this.db.updateTable('crisis_incidents').set(changes).where('id', '=', id).execute();
  }

  async incidents(orgIds: number[], afterId: number, limit: number): Promise<IncidentRow[]> {
    if (orgIds.length === 0) return [];
    return this.db
      .selectFrom('crisis_incidents')
      .selectAll()
      .where('org_id', 'in', orgIds)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit + 1)
      .execute();
  }

  async incidentByBank(bankId: number): Promise<IncidentRow | undefined> {
    return this.db
      .selectFrom('crisis_incidents')
      .selectAll()
      .where('bank_id', '=', bankId)
      .executeTakeFirst();
  }

  async insertActivation(row: Insertable<CrisisActivationsTable>): Promise<ActivationRow> {
    return this.db.insertInto('crisis_activations').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async activation(id: number): Promise<ActivationRow | undefined> {
    return this.db.selectFrom('crisis_activations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async activations(incidentId: number): Promise<ActivationRow[]> {
    return this.db
      .selectFrom('crisis_activations')
      .selectAll()
      .where('incident_id', '=', incidentId)
      .orderBy('id')
      .execute();
  }

  /**
   * Moves an activation from one state to another; 0 rows when someone else moved it first (the caller
   * answers 409 rather than recording a transition from a state it no longer is in).
   */
  async moveActivation(
    id: number,
    from: string,
    changes: Updateable<CrisisActivationsTable>,
  ): Promise<number> {
    const result = await this.db
      .updateTable('crisis_activations')
      .set(changes)
      .where('id', '=', id)
      .where('state', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async insertTransition(row: Insertable<CrisisTransitionsTable>): Promise<void> {
    await this.db.insertInto('crisis_transitions').values(row).execute();
  }

  async transitions(activationIds: number[]): Promise<TransitionRow[]> {
    if (activationIds.length === 0) return [];
    return this.db
      .selectFrom('crisis_transitions')
      .selectAll()
      .where('activation_id', 'in', activationIds)
      .orderBy('id')
      .execute();
  }

  async insertCriterion(row: Insertable<CrisisCriteriaTable>): Promise<CriterionRow> {
    return this.db.insertInto('crisis_criteria').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async criteria(activationIds: number[]): Promise<CriterionRow[]> {
    if (activationIds.length === 0) return [];
    return this.db
      .selectFrom('crisis_criteria')
      .selectAll()
      .where('activation_id', 'in', activationIds)
      .orderBy('id')
      .execute();
  }

  async insertDecision(row: Insertable<CrisisDecisionsTable>): Promise<DecisionRow> {
    return this.db.insertInto('crisis_decisions').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async decisions(activationIds: number[]): Promise<DecisionRow[]> {
    if (activationIds.length === 0) return [];
    return this.db
      .selectFrom('crisis_decisions')
      .selectAll()
      .where('activation_id', 'in', activationIds)
      .orderBy('id')
      .execute();
  }

  // Situational awareness

  async insertUpdate(row: Insertable<CrisisUpdatesTable>): Promise<UpdateRow> {
    return this.db.insertInto('crisis_updates').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async updates(incidentId: number): Promise<UpdateRow[]> {
    return this.db
      .selectFrom('crisis_updates')
      .selectAll()
      .where('incident_id', '=', incidentId)
      .orderBy('id')
      .execute();
  }

  /** The incident bank's signals with when they arrived (for the distinct-item and after-conclusion counts). */
  async bankSignals(bankId: number): Promise<{ signal_type: string; value: string; created_at: string }[]> {
    return this.db
      .selectFrom('entries')
      .select(['signal_type', 'value', 'created_at'])
      .where('bank_id', '=', bankId)
      .orderBy('id')
      .execute();
  }

  /** Incident banks of the incidents an organisation coordinates or takes part in, with their incident. */
  async incidentBanks(
    orgIds: number[],
  ): Promise<{ id: number; bank_id: number; title: string; exercise: number }[]> {
    if (orgIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('crisis_incidents')
      .select(['id', 'bank_id', 'title', 'exercise'])
      .where('org_id', 'in', orgIds)
      .where('bank_id', 'is not', null)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ ...r, bank_id: r.bank_id! }));
  }

  // Members' live numbers

  /** A member's totals for some minutes; a minute sent again replaces the earlier totals (reports are idempotent). */
  async putTelemetry(rows: Insertable<CrisisTelemetryTable>[]): Promise<void> {
    for (const row of rows)
      await this.db
        .insertInto('crisis_telemetry')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['incident_id', 'member_org_id', 'minute']).doUpdateSet({
            matches: row.matches,
            blocks: row.blocks,
            first_block_at: row.first_block_at,
          }),
        )
        .execute();
  }

  async telemetry(incidentId: number): Promise<TelemetryRow[]> {
    return this.db
      .selectFrom('crisis_telemetry')
      .selectAll()
      .where('incident_id', '=', incidentId)
      .orderBy('minute')
      .execute();
  }
}

/** A member's own submissions whose answer matched an incident bank (the crisis reporter's input). */
export async function incidentAnswers(
  db: Db,
  orgId: number,
  afterId: number,
  limit: number,
): Promise<{ id: number; created_at: string; answer: string }[]> {
  const rows = await db
    .selectFrom('submissions')
    .select(['id', 'created_at', 'answer'])
    .where('org_id', '=', orgId)
    .where('id', '>', afterId)
    .where('answer', 'like', '%"incident:%')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...r, answer: r.answer! }));
}

/**
 * Activations that went live, of real incidents (never exercises) an organisation coordinated or took part in,
 * overlapping [from, to): the crisis periods of its transparency reports.
 */
export async function liveActivations(
  db: Db,
  orgId: number,
  from: string,
  to: string,
): Promise<
  {
    id: number;
    title: string;
    key: string;
    type_key: string | null;
    activated_at: string;
    concluded_at: string | null;
  }[]
> {
  const rows = await db
    .selectFrom('crisis_activations as a')
    .innerJoin('crisis_incidents as i', 'i.id', 'a.incident_id')
    .innerJoin('crisis_protocols as p', 'p.id', 'a.protocol_id')
    .select(['a.id', 'i.title', 'p.key', 'a.type_key', 'a.activated_at', 'a.concluded_at'])
    .where('i.exercise', '=', 0)
    .where('a.activated_at', 'is not', null)
    .where('a.activated_at', '<', to)
    .where((eb) => eb.or([eb('a.concluded_at', 'is', null), eb('a.concluded_at', '>', from)]))
    .where((eb) =>
      eb.or([
        eb('i.org_id', '=', orgId),
        eb.exists(
          eb
            .selectFrom('crisis_participants as cp')
            .select('cp.member_org_id')
            .whereRef('cp.coordinator_org_id', '=', 'i.org_id')
            .where('cp.member_org_id', '=', orgId),
        ),
      ]),
    )
    .orderBy('a.activated_at')
    .execute();
  return rows.map((r) => ({ ...r, activated_at: r.activated_at! }));
}
