// Frozen in time: never edit a migration that has shipped; add a new one instead.
import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../dialect.js';

export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const id = dialect === 'postgres' ? 'bigserial' : 'integer';
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';
  const schema = db.schema;

  await schema
    .createTable('organisations')
    .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull().defaultTo('platform'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await schema
    .createTable('users')
    .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('org_id', bigint, (c) => c.notNull().references('organisations.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await schema
    .createTable('api_keys')
    .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('org_id', bigint, (c) => c.notNull().references('organisations.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await schema.createIndex('api_keys_org').on('api_keys').columns(['org_id', 'id']).execute();

  await schema
    .createTable('banks')
    .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('org_id', bigint, (c) => c.notNull().references('organisations.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('default_labels', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('thresholds', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('sharing', 'text', (c) => c.notNull().defaultTo('private'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('banks_org_name', ['org_id', 'name'])
    .execute();

  await schema
    .createTable('bank_shares')
    .addColumn('bank_id', bigint, (c) => c.notNull().references('banks.id').onDelete('cascade'))
    .addColumn('org_id', bigint, (c) => c.notNull().references('organisations.id').onDelete('cascade'))
    .addColumn('can_contribute', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('bank_shares_pk', ['bank_id', 'org_id'])
    .execute();
  await schema.createIndex('bank_shares_org').on('bank_shares').column('org_id').execute();

  await schema
    .createTable('entries')
    .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('bank_id', bigint, (c) => c.notNull().references('banks.id').onDelete('cascade'))
    .addColumn('org_id', bigint, (c) => c.notNull())
    .addColumn('signal_type', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('labels', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('contributor_org_id', bigint, (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text')
    .addColumn('note', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('seq', bigint, (c) => c.notNull())
    .addUniqueConstraint('entries_bank_signal', ['bank_id', 'signal_type', 'value'])
    .execute();
  await schema.createIndex('entries_seq').on('entries').column('seq').execute();
  await schema.createIndex('entries_bank_id').on('entries').columns(['bank_id', 'id']).execute();
  await schema.createIndex('entries_type_value').on('entries').columns(['signal_type', 'value']).execute();

  await schema
    .createTable('entry_tombstones')
    .addColumn('entry_id', bigint, (c) => c.notNull())
    .addColumn('bank_id', bigint, (c) => c.notNull())
    .addColumn('signal_type', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('seq', bigint, (c) => c.notNull())
    .addColumn('deleted_at', 'text', (c) => c.notNull())
    .execute();
  await schema.createIndex('entry_tombstones_seq').on('entry_tombstones').column('seq').execute();

  await schema
    .createTable('counters')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', bigint, (c) => c.notNull())
    .execute();
  await sql`insert into counters (name, value) values ('entry_seq', 0)`.execute(db);
}
