// Frozen in time: never edit a migration that has shipped; add a new one instead.
import type { ColumnDefinitionBuilder, Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const serial = dialect === 'postgres' ? 'bigserial' : 'integer';
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';
  const pk = (c: ColumnDefinitionBuilder) =>
    dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement();

  await db.schema
    .createTable('policies')
    .addColumn('id', serial, pk)
    .addColumn('org_id', bigint, (c) => c.notNull().references('organisations.id').onDelete('cascade'))
    .addColumn('bank_id', bigint, (c) => c.references('banks.id').onDelete('cascade'))
    .addColumn('label', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('policies_org').on('policies').column('org_id').execute();

  await db.schema
    .createTable('submissions')
    .addColumn('id', serial, pk)
    .addColumn('org_id', bigint, (c) => c.notNull().references('organisations.id').onDelete('cascade'))
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text')
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('signals', 'text', (c) => c.notNull())
    .addColumn('uploader_id', 'text')
    .addColumn('context', 'text', (c) => c.notNull())
    .addColumn('verdict', 'text', (c) => c.notNull())
    .addColumn('case_id', bigint)
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('submissions_idempotency', ['org_id', 'idempotency_key'])
    .execute();

  await db.schema
    .createTable('cases')
    .addColumn('id', serial, pk)
    .addColumn('org_id', bigint, (c) => c.notNull().references('organisations.id').onDelete('cascade'))
    .addColumn('submission_id', bigint)
    .addColumn('external_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('due_at', 'text', (c) => c.notNull())
    .addColumn('assignee', 'text')
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('cases_org_status').on('cases').columns(['org_id', 'status', 'id']).execute();

  await db.schema
    .createTable('decisions')
    .addColumn('id', serial, pk)
    .addColumn('case_id', bigint, (c) => c.notNull().references('cases.id').onDelete('cascade'))
    .addColumn('org_id', bigint, (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.notNull())
    .addColumn('ground_type', 'text', (c) => c.notNull())
    .addColumn('ground', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('automated', 'integer', (c) => c.notNull())
    .addColumn('decided_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('actions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', bigint, (c) => c.notNull())
    .addColumn('case_id', bigint, (c) => c.notNull())
    .addColumn('decision_id', bigint, (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('delivered_at', 'text')
    .execute();
  await db.schema.createIndex('actions_due').on('actions').columns(['status', 'next_attempt_at']).execute();

  await db.schema
    .createTable('statements')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', bigint, (c) => c.notNull())
    .addColumn('case_id', bigint, (c) => c.notNull())
    .addColumn('decision_id', bigint, (c) => c.notNull())
    .addColumn('action_id', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('webhooks')
    .addColumn('id', serial, pk)
    .addColumn('org_id', bigint, (c) => c.notNull().references('organisations.id').onDelete('cascade'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', serial, pk)
    .addColumn('action_id', 'text', (c) => c.notNull())
    .addColumn('webhook_id', bigint, (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_action')
    .on('webhook_deliveries')
    .column('action_id')
    .execute();
}
