// Frozen in time: never edit a migration that has shipped; add a new one instead.
import type { ColumnDefinitionBuilder, Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * External lists as sources: subscriptions (an organisation follows a TCAP hash list or a CSV / JSON-lines list
 * into a read-only mirror bank), the records a source sent that could not be stored (quarantine), and on banks
 * the subscription that manages them (`managed_by`; such a bank refuses every write but the subscription's).
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const serial = dialect === 'postgres' ? 'bigserial' : 'integer';
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';
  const pk = (c: ColumnDefinitionBuilder) =>
    dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement();

  await db.schema.alterTable('banks').addColumn('managed_by', 'text').execute();

  await db.schema
    .createTable('source_subscriptions')
    .addColumn('id', serial, pk)
    .addColumn('org_id', bigint, (c) => c.notNull().references('organisations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('bank_id', bigint)
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('interval_seconds', 'integer', (c) => c.notNull())
    .addColumn('checkpoint', 'text')
    .addColumn('last_fetch_at', 'text')
    .addColumn('last_success_at', 'text')
    .addColumn('caught_up_at', 'text')
    .addColumn('last_error', 'text')
    .addColumn('last_error_at', 'text')
    .addColumn('lag_records', bigint)
    .addColumn('records_upserted', bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('records_deleted', bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('records_quarantined', bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('source_subscriptions_name', ['org_id', 'name'])
    .execute();

  await db.schema
    .createTable('source_quarantine')
    .addColumn('id', serial, pk)
    .addColumn('subscription_id', bigint, (c) =>
      c.notNull().references('source_subscriptions.id').onDelete('cascade'),
    )
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('raw', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('source_quarantine_subscription')
    .on('source_quarantine')
    .columns(['subscription_id', 'id'])
    .execute();
}
