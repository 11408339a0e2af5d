// Frozen in time: never edit a migration that has shipped; add a new one instead.
import type { ColumnDefinitionBuilder, Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/** Removal orders and referrals from authorities, appeals against decisions, and per-organisation settings. */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const serial = dialect === 'postgres' ? 'bigserial' : 'integer';
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';
  const pk = (c: ColumnDefinitionBuilder) =>
    dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement();

  await db.schema
    .createTable('removal_orders')
    .addColumn('id', serial, pk)
    .addColumn('authority_org_id', bigint, (c) => c.notNull().references('organisations.id'))
    .addColumn('platform_org_id', bigint, (c) => c.notNull().references('organisations.id'))
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('authority_name', 'text', (c) => c.notNull())
    .addColumn('member_state', 'text', (c) => c.notNull())
    .addColumn('content_types', 'text', (c) => c.notNull())
    .addColumn('reasons', 'text', (c) => c.notNull())
    .addColumn('items', 'text', (c) => c.notNull())
    .addColumn('item_count', 'integer', (c) => c.notNull())
    .addColumn('legal_basis', 'text', (c) => c.notNull())
    .addColumn('signed_at', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addColumn('redress', 'text', (c) => c.notNull())
    .addColumn('non_disclosure_until', 'text')
    .addColumn('non_disclosure_extended', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('cross_border', 'integer', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('clock_start', 'text', (c) => c.notNull())
    .addColumn('deadline_at', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('case_id', bigint)
    .addColumn('action', 'text')
    .addColumn('actioned_at', 'text')
    .addColumn('answered_at', 'text')
    .addColumn('late', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('annex_iii_ground', 'text')
    .addColumn('annex_iii_detail', 'text')
    .addColumn('annex_iii_at', 'text')
    .addColumn('scrutiny_requested_by', 'text')
    .addColumn('scrutiny_requested_at', 'text')
    .addColumn('scrutiny_deadline_at', 'text')
    .addColumn('scrutiny_outcome', 'text')
    .addColumn('scrutiny_decided_at', 'text')
    .addColumn('reinstated_at', 'text')
    .addColumn('reinstatement_reason', 'text')
    .addColumn('preserve_until', 'text')
    .addColumn('notice_action_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('removal_orders_reference', ['authority_org_id', 'reference'])
    .execute();
  await db.schema
    .createIndex('removal_orders_platform')
    .on('removal_orders')
    .columns(['platform_org_id', 'received_at'])
    .execute();
  await db.schema
    .createIndex('removal_orders_authority')
    .on('removal_orders')
    .columns(['authority_org_id', 'received_at'])
    .execute();

  await db.schema
    .createTable('referrals')
    .addColumn('id', serial, pk)
    .addColumn('authority_org_id', bigint, (c) => c.notNull().references('organisations.id'))
    .addColumn('platform_org_id', bigint, (c) => c.notNull().references('organisations.id'))
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('items', 'text', (c) => c.notNull())
    .addColumn('item_count', 'integer', (c) => c.notNull())
    .addColumn('basis_cited', 'text', (c) => c.notNull())
    .addColumn('reasons', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('basis_used', 'text')
    .addColumn('outcome_at', 'text')
    .addColumn('case_id', bigint)
    .addUniqueConstraint('referrals_reference', ['authority_org_id', 'reference'])
    .execute();
  await db.schema
    .createIndex('referrals_platform')
    .on('referrals')
    .columns(['platform_org_id', 'received_at'])
    .execute();
  await db.schema
    .createIndex('referrals_authority')
    .on('referrals')
    .columns(['authority_org_id', 'received_at'])
    .execute();

  await db.schema
    .createTable('appeals')
    .addColumn('id', serial, pk)
    .addColumn('org_id', bigint, (c) => c.notNull().references('organisations.id'))
    .addColumn('decision_id', bigint, (c) => c.notNull())
    .addColumn('case_id', bigint, (c) => c.notNull())
    .addColumn('appellant_id', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('statement', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('original_decider', 'text', (c) => c.notNull())
    .addColumn('automated_detection', 'integer', (c) => c.notNull())
    .addColumn('bank_ids', 'text', (c) => c.notNull())
    .addColumn('assignee', 'text')
    .addColumn('filed_at', 'text', (c) => c.notNull())
    .addColumn('due_at', 'text', (c) => c.notNull())
    .addColumn('decided_at', 'text')
    .addColumn('decided_by', 'text')
    .addColumn('reply', 'text')
    .addColumn('restore_action_id', 'text')
    .execute();
  await db.schema
    .createIndex('appeals_org_status')
    .on('appeals')
    .columns(['org_id', 'status', 'id'])
    .execute();
  await db.schema.createIndex('appeals_decision').on('appeals').column('decision_id').execute();

  await db.schema
    .createTable('bank_reversals')
    .addColumn('id', serial, pk)
    .addColumn('appeal_id', bigint, (c) => c.notNull())
    .addColumn('bank_id', bigint, (c) => c.notNull())
    .addColumn('entry_id', bigint, (c) => c.notNull())
    .addColumn('bank_org_id', bigint, (c) => c.notNull())
    .addColumn('org_id', bigint, (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('org_settings')
    .addColumn('org_id', bigint, (c) => c.primaryKey().references('organisations.id'))
    .addColumn('hosts', 'text', (c) => c.notNull())
    .addColumn('appeal_window_days', 'integer', (c) => c.notNull())
    .addColumn('publish_reports', 'integer', (c) => c.notNull())
    .addColumn('appeal_link_secret', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  // One narrow row per decision, written with it: what the transparency reports group and count.
  await db.schema
    .createTable('decision_facts')
    .addColumn('decision_id', bigint, (c) => c.primaryKey())
    .addColumn('org_id', bigint, (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.notNull())
    .addColumn('automated', 'integer', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('territory', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('labels', 'text', (c) => c.notNull())
    .addColumn('banks', 'text', (c) => c.notNull())
    .addColumn('seconds', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('decision_facts_org_created')
    .on('decision_facts')
    // Covering: the reports read only the index.
    .columns([
      'org_id',
      'created_at',
      'decision',
      'automated',
      'source',
      'territory',
      'format',
      'labels',
      'banks',
      'seconds',
    ])
    .execute();
  await db.schema.createIndex('removal_orders_case').on('removal_orders').column('case_id').execute();
  await db.schema.createIndex('referrals_case').on('referrals').column('case_id').execute();

  await db.schema
    .createTable('dsa_submissions')
    .addColumn('statement_id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', bigint, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('submitted_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createIndex('decisions_org_created')
    .on('decisions')
    .columns(['org_id', 'created_at'])
    .execute();
}
