// Frozen in time: never edit a migration that has shipped; add a new one instead.
import type { Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/** Research access: datasets of exposure events (private + mock twin), researchers, budgets, requests, ledger. */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';
  const id = dialect === 'postgres' ? 'bigserial' : 'integer';
  const double = dialect === 'postgres' ? 'double precision' : 'real';
  await db.schema
    .createTable('research_datasets')
    .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('org_id', bigint, (c) => c.notNull().references('organisations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    // JSON: { publicKeys, bounds, autoApprove }
    .addColumn('meta', 'text', (c) => c.notNull())
    .addColumn('privacy_unit', 'text', (c) => c.notNull())
    .addColumn('private_rows', bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('mock_rows', bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('private_version', 'text', (c) => c.notNull())
    .addColumn('mock_version', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('research_datasets_org_name', ['org_id', 'name'])
    .execute();
  await db.schema
    .createTable('research_events')
    .addColumn('dataset_id', bigint, (c) => c.notNull().references('research_datasets.id'))
    // 0 = private data, 1 = mock twin
    .addColumn('twin', 'integer', (c) => c.notNull())
    .addColumn('seq', bigint, (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('session_id', 'text', (c) => c.notNull())
    .addColumn('item_id', 'text', (c) => c.notNull())
    .addColumn('creator_id', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('arm', 'text', (c) => c.notNull())
    .addColumn('surface', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('ts', double, (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('dwell_ms', 'integer', (c) => c.notNull())
    .addColumn('engaged', 'integer', (c) => c.notNull())
    .addColumn('linger', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('research_events_pk', ['dataset_id', 'twin', 'seq'])
    .execute();
  await db.schema
    .createTable('research_researchers')
    .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    // The data owner's organisation, which registered and accredited the researcher.
    .addColumn('org_id', bigint, (c) => c.notNull().references('organisations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    // Who the researcher authenticates as: `key:12` or `user:3` (in their own organisation).
    .addColumn('principal', 'text', (c) => c.notNull())
    .addColumn('accredited_by', 'text', (c) => c.notNull())
    .addColumn('accredited_until', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addUniqueConstraint('research_researchers_org_principal', ['org_id', 'principal'])
    .execute();
  await db.schema
    .createTable('research_projects')
    .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('researcher_id', bigint, (c) => c.notNull().references('research_researchers.id'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('research_budgets')
    .addColumn('researcher_id', bigint, (c) => c.notNull().references('research_researchers.id'))
    .addColumn('dataset_id', bigint, (c) => c.notNull().references('research_datasets.id'))
    .addColumn('rho', double, (c) => c.notNull())
    .addColumn('delta', double, (c) => c.notNull())
    .addColumn('rho_spent', double, (c) => c.notNull().defaultTo(0))
    .addColumn('delta_spent', double, (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('research_budgets_pk', ['researcher_id', 'dataset_id'])
    .execute();
  await db.schema
    .createTable('research_requests')
    .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('dataset_id', bigint, (c) => c.notNull().references('research_datasets.id'))
    .addColumn('researcher_id', bigint, (c) => c.notNull().references('research_researchers.id'))
    .addColumn('project_id', bigint, (c) => c.references('research_projects.id'))
    .addColumn('plan', 'text', (c) => c.notNull())
    .addColumn('plan_hash', 'text', (c) => c.notNull())
    .addColumn('rho', double, (c) => c.notNull())
    .addColumn('delta', double, (c) => c.notNull())
    // pending | approved | denied | released | failed
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'text')
    .addColumn('result', 'text')
    .addColumn('released_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('research_requests_dataset_status')
    .on('research_requests')
    .columns(['dataset_id', 'status'])
    .execute();
  await db.schema
    .createTable('research_ledger')
    .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('researcher_id', bigint, (c) => c.notNull().references('research_researchers.id'))
    .addColumn('dataset_id', bigint, (c) => c.notNull().references('research_datasets.id'))
    .addColumn('request_id', bigint, (c) => c.notNull().unique().references('research_requests.id'))
    .addColumn('rho', double, (c) => c.notNull())
    .addColumn('delta', double, (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
}
