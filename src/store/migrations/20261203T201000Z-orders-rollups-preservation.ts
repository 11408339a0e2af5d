// Frozen in time: never edit a migration that has shipped; add a new one instead.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * Daily roll-ups of decision facts (kept on write, so a year's report reads a few thousand rows instead of every
 * decision), and the TCO Art. 6 preservation record of removal orders: its extensions and when it was purged.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .createTable('decision_fact_days')
    .addColumn('org_id', bigint, (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.notNull())
    .addColumn('automated', 'integer', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('territory', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('labels', 'text', (c) => c.notNull())
    .addColumn('banks', 'text', (c) => c.notNull())
    .addColumn('n', bigint, (c) => c.notNull())
    .addPrimaryKeyConstraint('decision_fact_days_pk', [
      'org_id',
      'day',
      'decision',
      'automated',
      'source',
      'territory',
      'format',
      'labels',
      'banks',
    ])
    .execute();
  // Facts recorded before this migration: one pass, the same grouping the write path keeps.
  await sql`insert into decision_fact_days (org_id, day, decision, automated, source, territory, format, labels, banks, n)
    select org_id, substr(created_at, 1, 10), decision, automated, source, territory, format, labels, banks, count(*)
    from decision_facts
    group by org_id, substr(created_at, 1, 10), decision, automated, source, territory, format, labels, banks`.execute(
    db,
  );

  await db.schema
    .alterTable('removal_orders')
    .addColumn('preservation_extensions', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();
  await db.schema.alterTable('removal_orders').addColumn('preservation_purged_at', 'text').execute();
  await db.schema
    .createIndex('removal_orders_preserve_until')
    .on('removal_orders')
    .column('preserve_until')
    .execute();
}
