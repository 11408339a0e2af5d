// Frozen in time: never edit a migration that has shipped; add a new one instead.
import type { ColumnDefinitionBuilder, Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * Signed contributions from member instances: the instance keys members registered when they joined, each
 * contribution batch exactly as its instance signed it, and which entry each item of a batch added or retracted
 * (so the hub's feed can hand members the contributor's own signature with every record).
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const id = dialect === 'postgres' ? 'bigserial' : 'integer';
  const ref = dialect === 'postgres' ? 'bigint' : 'integer';
  const key = (c: ColumnDefinitionBuilder) =>
    dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement();

  await db.schema
    .createTable('sharing_member_instances')
    .addColumn('org_id', ref, (c) => c.notNull())
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('joined_by', 'text', (c) => c.notNull())
    .addColumn('joined_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sharing_member_instances_pk', ['org_id', 'instance_id'])
    .execute();

  await db.schema
    .createTable('contribution_batches')
    .addColumn('id', id, key)
    .addColumn('bank_id', ref, (c) => c.notNull())
    .addColumn('org_id', ref, (c) => c.notNull())
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('batch_key', 'text', (c) => c.notNull().unique())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('signed_at', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('contribution_items')
    .addColumn('batch_id', ref, (c) => c.notNull())
    .addColumn('item', 'integer', (c) => c.notNull())
    .addColumn('bank_id', ref, (c) => c.notNull())
    .addColumn('entry_id', ref, (c) => c.notNull())
    .addColumn('op', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('contribution_items_pk', ['batch_id', 'item'])
    .execute();
  await db.schema
    .createIndex('contribution_items_entry')
    .on('contribution_items')
    .columns(['entry_id', 'op'])
    .execute();
}
