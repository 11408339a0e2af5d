// Frozen in time: never edit a migration that has shipped; add a new one instead.
import type { ColumnDefinitionBuilder, Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const pk = (c: ColumnDefinitionBuilder) =>
    dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement();
  await db.schema
    .createTable('reports')
    .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', pk)
    .addColumn('org_id', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
    .addColumn('case_id', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text')
    .addColumn('url', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('category', 'text')
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('reports_case').on('reports').column('case_id').execute();
  await db.schema.createIndex('cases_external').on('cases').columns(['org_id', 'external_id']).execute();
}
