// Frozen in time: never edit a migration that has shipped; add a new one instead.
import type { ColumnDefinitionBuilder, Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * Crisis response: protocols as versioned data, the coordinator's network of participants, incidents with one
 * activation per protocol (criteria, decisions, transitions), notifications with acknowledgement, situational
 * updates and members' live numbers, intervention resources, findings and drill runs.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const id = dialect === 'postgres' ? 'bigserial' : 'integer';
  const ref = dialect === 'postgres' ? 'bigint' : 'integer';
  const key = (c: ColumnDefinitionBuilder) =>
    dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement();

  await db.schema
    .createTable('crisis_protocols')
    .addColumn('id', id, key)
    .addColumn('owner_org_id', ref) // null: a preset shipped with Kaitiaki
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('crisis_protocols_key')
    .on('crisis_protocols')
    .columns(['key', 'version'])
    .execute();

  await db.schema
    .createTable('crisis_participants')
    .addColumn('coordinator_org_id', ref, (c) => c.notNull())
    .addColumn('member_org_id', ref, (c) => c.notNull())
    .addColumn('groups', 'text', (c) => c.notNull())
    .addColumn('roles', 'text', (c) => c.notNull())
    .addColumn('contacts', 'text', (c) => c.notNull())
    .addColumn('accepts_incident_banks', 'integer', (c) => c.notNull())
    .addColumn('incident_policy', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('crisis_participants_pk', ['coordinator_org_id', 'member_org_id'])
    .execute();

  await db.schema
    .createTable('crisis_incidents')
    .addColumn('id', id, key)
    .addColumn('org_id', ref, (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'text')
    .addColumn('zone', 'text', (c) => c.notNull())
    .addColumn('countries', 'text', (c) => c.notNull())
    .addColumn('exercise', 'integer', (c) => c.notNull())
    .addColumn('bank_id', ref)
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('crisis_incidents_org').on('crisis_incidents').column('org_id').execute();

  await db.schema
    .createTable('crisis_activations')
    .addColumn('id', id, key)
    .addColumn('incident_id', ref, (c) => c.notNull())
    .addColumn('protocol_id', ref, (c) => c.notNull())
    .addColumn('type_key', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('opened_at', 'text', (c) => c.notNull())
    .addColumn('activated_at', 'text')
    .addColumn('concluded_at', 'text')
    .addColumn('conclusion_basis', 'text')
    .addColumn('conclusion_text', 'text')
    .addColumn('not_activated_reason', 'text')
    .addColumn('human_rights', 'text')
    .execute();
  await db.schema
    .createIndex('crisis_activations_incident')
    .on('crisis_activations')
    .column('incident_id')
    .execute();

  await db.schema
    .createTable('crisis_transitions')
    .addColumn('id', id, key)
    .addColumn('activation_id', ref, (c) => c.notNull())
    .addColumn('from_state', 'text', (c) => c.notNull())
    .addColumn('to_state', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('zone', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('crisis_transitions_activation')
    .on('crisis_transitions')
    .column('activation_id')
    .execute();

  await db.schema
    .createTable('crisis_criteria')
    .addColumn('id', id, key)
    .addColumn('activation_id', ref, (c) => c.notNull())
    .addColumn('criterion', 'text', (c) => c.notNull())
    .addColumn('met', 'integer', (c) => c.notNull())
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('crisis_criteria_activation')
    .on('crisis_criteria')
    .column('activation_id')
    .execute();

  await db.schema
    .createTable('crisis_decisions')
    .addColumn('id', id, key)
    .addColumn('activation_id', ref, (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('actor_org_id', ref, (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('type_key', 'text', (c) => c.notNull())
    .addColumn('rationale', 'text', (c) => c.notNull())
    .addColumn('human_rights', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('crisis_decisions_activation')
    .on('crisis_decisions')
    .column('activation_id')
    .execute();

  await db.schema
    .createTable('crisis_notifications')
    .addColumn('id', id, key)
    .addColumn('activation_id', ref, (c) => c.notNull())
    .addColumn('member_org_id', ref)
    .addColumn('recipient_group', 'text', (c) => c.notNull())
    .addColumn('contact_index', 'integer', (c) => c.notNull())
    .addColumn('contact', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text', (c) => c.notNull())
    .addColumn('due_at', 'text', (c) => c.notNull())
    .addColumn('acked_at', 'text')
    .addColumn('ack_via', 'text')
    .addColumn('ack_actor', 'text')
    .addColumn('late', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('escalated_at', 'text')
    .execute();
  await db.schema
    .createIndex('crisis_notifications_activation')
    .on('crisis_notifications')
    .column('activation_id')
    .execute();

  await db.schema
    .createTable('crisis_updates')
    .addColumn('id', id, key)
    .addColumn('incident_id', ref, (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('numbers', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('crisis_updates_incident').on('crisis_updates').column('incident_id').execute();

  // Members' live numbers: per incident, member and minute (a member reports its own instance's counts).
  await db.schema
    .createTable('crisis_telemetry')
    .addColumn('incident_id', ref, (c) => c.notNull())
    .addColumn('member_org_id', ref, (c) => c.notNull())
    .addColumn('minute', 'text', (c) => c.notNull())
    .addColumn('matches', 'integer', (c) => c.notNull())
    .addColumn('blocks', 'integer', (c) => c.notNull())
    .addColumn('first_block_at', 'text')
    .addPrimaryKeyConstraint('crisis_telemetry_pk', ['incident_id', 'member_org_id', 'minute'])
    .execute();

  await db.schema
    .createTable('crisis_resources')
    .addColumn('id', id, key)
    .addColumn('activation_id', ref, (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('locale', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('url', 'text')
    .addColumn('message', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('crisis_findings')
    .addColumn('id', id, key)
    .addColumn('incident_id', ref, (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('due_at', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('crisis_drill_runs')
    .addColumn('id', id, key)
    .addColumn('incident_id', ref, (c) => c.notNull())
    .addColumn('scenario', 'text', (c) => c.notNull())
    .addColumn('results', 'text')
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .execute();
}
